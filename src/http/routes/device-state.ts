import { createRoute, z } from '@hono/zod-openapi'
import { deviceStateViewSchema } from '../../devices/schema.ts'
import type { DeviceState } from '../../devices/state.ts'
import { Errors } from '../../errors.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { errorResponses, jsonBody, jsonResponse } from './api-shared.ts'

export interface DeviceStateRoutesDeps {
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

const IdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: 'pi-1' }) })

const routes = {
  get: createRoute({
    method: 'get',
    path: '/{id}/state',
    operationId: 'getDeviceState',
    summary: 'Get the reported and desired state of a device, with the delta and whether it is pending',
    request: { params: IdParam },
    responses: { 200: jsonResponse(StateSchema, 'the state'), ...errorResponses(401, 403, 404) },
  }),
  patch: createRoute({
    method: 'patch',
    path: '/{id}/state',
    operationId: 'setDesiredState',
    summary: 'Change the desired state; what the device does not report yet is published to its set topic',
    request: { params: IdParam, body: jsonBody(PatchSchema) },
    responses: { 200: jsonResponse(StateSchema, 'the state'), ...errorResponses(400, 401, 403, 404) },
  }),
}

/** `/devices/{id}/state` (issue 7 point 4), mounted next to the device registry's routes. */
export function createDeviceStateRoutes(deps: DeviceStateRoutesDeps) {
  const router = createRouter()
  // Only this router's paths: `/devices` has the registry's own guard.
  const read = deps.requireAuth('read')
  const write = deps.requireAuth('write')
  router.use('/:id/state', (c, next) =>
    (c.req.method === 'GET' || c.req.method === 'HEAD' ? read : write)(c, next),
  )

  router.openapi(routes.get, (c) => {
    const state = deps.state.get(c.req.valid('param').id)
    if (!state) throw Errors.notFound('device')
    return c.json(state, 200)
  })
  router.openapi(routes.patch, (c) => {
    const { id } = c.req.valid('param')
    const principal = c.get('principal')
    const state = deps.state.setDesired(id, c.req.valid('json').desired, `${principal.kind}:${principal.id}`)
    if (!state) throw Errors.notFound('device')
    return c.json(state, 200)
  })
  return router
}
