import { z } from '@hono/zod-openapi'
import { deviceStateViewSchema } from '../../devices/schema.ts'
import type { DeviceState } from '../../devices/state.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { jsonBody } from './api-shared.ts'
import { found, getRoute, jsonRoute, pathParam, readOrWrite } from './route-builders.ts'

interface DeviceStateRoutesDeps {
  state: DeviceState
  requireAuth: RequireAuth
}

/** Desired state patches travel in one MQTT packet to the device. */
const MAX_STATE_BYTES = 64 * 1024

const StateObject = z.record(z.string(), z.unknown())

const StateSchema = deviceStateViewSchema

const PatchSchema = z
  .object({
    desired: StateObject.refine(
      (v) => JSON.stringify(v).length <= MAX_STATE_BYTES,
      `at most ${MAX_STATE_BYTES} bytes of JSON`,
    ).openapi({
      description: 'merged into the desired state: objects key by key, null removes a key',
      example: { power: 'on', brightness: 80 },
    }),
  })
  .openapi('DeviceStatePatch')

const params = { params: pathParam('id', { example: 'pi-1' }) }

const routes = {
  get: getRoute({
    path: '/{id}/state',
    op: [
      'getDeviceState',
      'Get the reported and desired state of a device, with the delta and whether it is pending',
    ],
    request: params,
    answer: [StateSchema, 'the state'],
  }),
  patch: jsonRoute('patch', 200, {
    path: '/{id}/state',
    op: [
      'setDesiredState',
      'Change the desired state; what the device does not report yet is published to its set topic',
    ],
    request: { ...params, body: jsonBody(PatchSchema) },
    answer: [StateSchema, 'the state'],
  }),
}

/** `/devices/{id}/state`, mounted next to the device registry's routes. */
export function createDeviceStateRoutes(deps: DeviceStateRoutesDeps) {
  const router = createRouter()
  // Only this router's paths: `/devices` has the registry's own guard.
  router.use('/:id/state', readOrWrite(deps.requireAuth))

  router.openapi(routes.get, (c) => {
    return c.json(found(deps.state.get(c.req.valid('param').id), 'device'), 200)
  })
  router.openapi(routes.patch, (c) => {
    const { id } = c.req.valid('param')
    const principal = c.get('principal')
    const state = deps.state.setDesired(id, c.req.valid('json').desired, `${principal.kind}:${principal.id}`)
    return c.json(found(state, 'device'), 200)
  })
  return router
}
