import type { Database } from 'bun:sqlite'
import { z } from '@hono/zod-openapi'
import {
  groupAddResultSchema,
  groupCreateResultSchema,
  groupDeleteResultSchema,
  groupSubtractResultSchema,
} from '../../bus/payloads.ts'
import type { GroupService } from '../../devices/group-service.ts'
import { getGroup, listGroups, MAX_DEVICES_PER_CALL } from '../../devices/groups.ts'
import { deviceGroupInfoSchema } from '../../devices/schema.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { jsonBody } from './api-shared.ts'
import { found, getRoute, jsonRoute, listRoute, type Op, readOrWrite } from './route-builders.ts'

interface GroupRoutesDeps {
  db: Database
  groups: GroupService
  requireAuth: RequireAuth
}

const GroupIdParam = z.object({
  groupId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/)
    .openapi({ param: { name: 'groupId', in: 'path' }, example: 'grp-3f9a1c2b7d4e' }),
})

const DeviceIds = z
  .array(z.string().min(1).max(64))
  .max(MAX_DEVICES_PER_CALL)
  .openapi({
    description: `device ids, at most ${MAX_DEVICES_PER_CALL}; unknown ones come back in failedDevices`,
  })

const GroupSchema = deviceGroupInfoSchema

const NewGroupSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).nullish(),
    devices: DeviceIds.optional(),
  })
  .openapi('NewDeviceGroup')

const MembersSchema = z.object({ devices: DeviceIds.min(1) }).openapi('DeviceGroupMembers')

const params = { params: GroupIdParam }

/** `POST /{groupId}/<change>` with a list of devices, answering what changed. */
const membersRoute = <T extends z.ZodType, C extends string>(change: C, op: Op, answer: T, done: string) =>
  jsonRoute('post', 200, {
    path: `/{groupId}/${change}`,
    op,
    request: { ...params, body: jsonBody(MembersSchema) },
    answer: [answer, done],
  })

const routes = {
  list: listRoute({
    op: ['listDeviceGroups', 'List device groups with their sizes'],
    item: GroupSchema,
    items: 'groups',
  }),
  get: getRoute({
    path: '/{groupId}',
    op: ['getDeviceGroup', 'Get a device group and its members'],
    request: params,
    answer: [GroupSchema.extend({ devices: z.array(z.string()) }), 'the group'],
  }),
  create: jsonRoute('post', 201, {
    op: ['createDeviceGroup', 'Create a device group'],
    request: { body: jsonBody(NewGroupSchema) },
    answer: [groupCreateResultSchema, 'created'],
  }),
  add: membersRoute('add', ['addDeviceGroup', 'Add devices to a group'], groupAddResultSchema, 'added'),
  subtract: membersRoute(
    'subtract',
    ['subtractDeviceGroup', 'Remove devices from a group'],
    groupSubtractResultSchema,
    'removed',
  ),
  remove: jsonRoute('delete', 200, {
    path: '/{groupId}',
    op: ['deleteDeviceGroup', 'Delete a device group'],
    request: params,
    answer: [groupDeleteResultSchema, 'deleted'],
  }),
}

/** `/groups`: source (c)'s device groups; members may read `groups/<groupId>/#`. */
export function createGroupRoutes(deps: GroupRoutesDeps) {
  const { db, groups } = deps
  const router = createRouter()
  router.use('*', readOrWrite(deps.requireAuth))
  const group = <T>(v: T | undefined): T => found(v, 'group')

  router.openapi(routes.list, (c) => c.json({ items: listGroups(db) }, 200))
  router.openapi(routes.get, (c) => c.json(group(getGroup(db, c.req.valid('param').groupId)), 200))
  router.openapi(routes.create, (c) => {
    const b = c.req.valid('json')
    return c.json(
      groups.create({ name: b.name, description: b.description ?? null, devices: b.devices }),
      201,
    )
  })
  router.openapi(routes.add, (c) => {
    const { groupId } = c.req.valid('param')
    return c.json(group(groups.add(groupId, c.req.valid('json').devices)), 200)
  })
  router.openapi(routes.subtract, (c) => {
    const { groupId } = c.req.valid('param')
    return c.json(group(groups.subtract(groupId, c.req.valid('json').devices)), 200)
  })
  router.openapi(routes.remove, (c) => c.json(group(groups.remove(c.req.valid('param').groupId)), 200))
  return router
}
