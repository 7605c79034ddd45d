import type { Database } from 'bun:sqlite'
import { z } from '@hono/zod-openapi'
import type { Bus } from '../../bus/bus.ts'
import { listDeviceAclRules, removeDeviceAclRule, setDeviceAclRule } from '../../devices/acl-rules.ts'
import { createDeviceService } from '../../devices/device-service.ts'
import { presetNameSchema, presetSettings } from '../../devices/presets.ts'
import { DeviceError, getDevice, listDevices } from '../../devices/registry.ts'
import {
  aclRuleViewSchema,
  deviceCredentialsViewSchema,
  deviceViewSchema,
  presetSettingsSchema,
} from '../../devices/schema.ts'
import { Errors } from '../../errors.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { jsonBody } from './api-shared.ts'
import {
  deleteRoute,
  found,
  getRoute,
  jsonRoute,
  listRoute,
  pathParam,
  readOrWrite,
} from './route-builders.ts'

interface DeviceRoutesDeps {
  db: Database
  bus: Bus
  requireAuth: RequireAuth
  /** The MQTT listeners' ports, for the connection settings of a preset. */
  mqttPorts?: () => { mqtt: number }
  now?: () => number
}

const AclRuleSchema = aclRuleViewSchema
const DeviceSchema = deviceViewSchema
const CredentialsSchema = deviceCredentialsViewSchema

const PresetSettingsSchema = presetSettingsSchema

const IdParam = pathParam('id', { example: 'pi-1' })
const params = { params: IdParam }
const NewDeviceSchema = z
  .object({
    id: z.string().min(1).max(64),
    name: z.string().min(1).max(200).optional(),
    preset: presetNameSchema.optional().openapi({
      description: "grant the tool's documented topic trees and answer with its connection settings",
    }),
  })
  .openapi('NewDevice')
const DevicePatchSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional().openapi({ description: 'a name for people' }),
    enabled: z
      .boolean()
      .optional()
      .openapi({ description: 'a disabled device is refused at its next connect' }),
  })
  .openapi('DevicePatch')
const PatternQuery = z.object({ pattern: z.string().min(1).openapi({ example: 'sensors/%u/#' }) })

const routes = {
  list: listRoute({
    op: ['listDevices', 'List devices with their presence'],
    item: DeviceSchema,
    items: 'devices',
  }),
  get: getRoute({
    path: '/{id}',
    op: ['getDevice', 'Get a device and its extra ACL rules'],
    request: params,
    answer: [DeviceSchema.extend({ acl: z.array(AclRuleSchema) }), 'the device'],
  }),
  create: jsonRoute('post', 201, {
    op: ['createDevice', 'Register a device; its MQTT credentials are in this answer only'],
    request: { body: jsonBody(NewDeviceSchema) },
    answer: [
      z.object({
        device: DeviceSchema,
        credentials: CredentialsSchema,
        settings: PresetSettingsSchema.optional(),
      }),
      'registered',
    ],
    also: [409],
  }),
  update: jsonRoute('patch', 200, {
    path: '/{id}',
    op: ['updateDevice', 'Rename a device, or enable or disable it'],
    request: { ...params, body: jsonBody(DevicePatchSchema) },
    answer: [DeviceSchema, 'the device'],
  }),
  remove: deleteRoute({
    path: '/{id}',
    op: ['deleteDevice', 'Remove a device and its ACL rules'],
    request: params,
    done: 'removed',
  }),
  rotate: jsonRoute('post', 200, {
    path: '/{id}/rotate',
    op: ['rotateDevicePassword', 'Issue a new MQTT password; the old one stops working at the next connect'],
    request: params,
    answer: [CredentialsSchema, 'new credentials'],
  }),
  listAcl: listRoute({
    path: '/{id}/acl',
    op: ['listDeviceAcl', 'List the extra ACL rules of a device (besides devices/<id>/# and mqtt.acl)'],
    request: params,
    item: AclRuleSchema,
    items: 'rules',
  }),
  setAcl: jsonRoute('post', 200, {
    path: '/{id}/acl',
    op: ['setDeviceAclRule', 'Add an ACL rule, or change the access of the rule with the same pattern'],
    request: { ...params, body: jsonBody(AclRuleSchema) },
    answer: [AclRuleSchema, 'the rule'],
  }),
  removeAcl: deleteRoute({
    path: '/{id}/acl',
    op: ['deleteDeviceAclRule', 'Remove the ACL rule with this pattern'],
    request: { ...params, query: PatternQuery },
    done: 'removed',
  }),
}

/** `/devices`: the device registry, credentials and ACL rules (read to look, write to change). */
export function createDeviceRoutes(deps: DeviceRoutesDeps) {
  const { db } = deps
  const now = deps.now ?? Date.now
  const devices = createDeviceService({ db, bus: deps.bus, now })
  const router = createRouter()
  router.use('*', readOrWrite(deps.requireAuth))
  const mustExist = (id: string) => found(getDevice(db, id), 'device')

  router.openapi(routes.list, (c) => c.json({ items: listDevices(db) }, 200))

  router.openapi(routes.get, (c) => {
    const { id } = c.req.valid('param')
    return c.json({ ...mustExist(id), acl: listDeviceAclRules(db, id) }, 200)
  })

  router.openapi(routes.create, async (c) => {
    const body = c.req.valid('json')
    const { device, credentials } = await translate(() => devices.create(body))
    if (!device.preset) return c.json({ device, credentials }, 201)
    // The host the caller reached the API on is the one its tools can reach the broker on.
    const ports = deps.mqttPorts?.()
    const settings = presetSettings(device.preset, {
      host: new URL(c.req.url).hostname,
      port: ports?.mqtt ?? 1883,
      ...credentials,
    })
    return c.json({ device, credentials, settings }, 201)
  })

  router.openapi(routes.update, (c) => {
    const { id } = c.req.valid('param')
    return c.json(found(devices.update(id, c.req.valid('json')), 'device'), 200)
  })

  router.openapi(routes.remove, (c) => {
    found(devices.remove(c.req.valid('param').id), 'device')
    return c.body(null, 204)
  })

  router.openapi(routes.rotate, async (c) => {
    const { id } = c.req.valid('param')
    return c.json(await translate(() => devices.rotate(id)), 200)
  })

  router.openapi(routes.listAcl, (c) => {
    const { id } = c.req.valid('param')
    mustExist(id)
    return c.json({ items: listDeviceAclRules(db, id) }, 200)
  })

  router.openapi(routes.setAcl, async (c) => {
    const { id } = c.req.valid('param')
    const rule = c.req.valid('json')
    return c.json(await translate(async () => setDeviceAclRule(db, id, rule, now())), 200)
  })

  router.openapi(routes.removeAcl, (c) => {
    const { id } = c.req.valid('param')
    mustExist(id)
    found(removeDeviceAclRule(db, id, c.req.valid('query').pattern), 'ACL rule')
    return c.body(null, 204)
  })
  return router
}

/** The registry's own errors as API errors. */
async function translate<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (!(err instanceof DeviceError)) throw err
    if (err.reason === 'exists') throw Errors.conflict(err.message)
    if (err.reason === 'not-found') throw Errors.notFound('device')
    throw Errors.invalid([{ path: '', message: err.message }])
  }
}
