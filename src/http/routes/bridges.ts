import { createRoute, z } from '@hono/zod-openapi'
import { type BridgeStatusDeps, listBridges } from '../../bridges/status.ts'
import { Errors } from '../../errors.ts'
import type { BridgeStatusView } from '../../protocol.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { errorResponses, jsonResponse } from './api-shared.ts'

const KINDS = ['webhook', 'fcm', 'slack', 'rtdb', 'firestore', 'poller'] as const
const STATES = ['ok', 'degraded', 'down', 'disabled'] as const

const BridgeSchema = z
  .object({
    id: z.string().openapi({ example: 'slack:default', description: '`<kind>:<name>`' }),
    kind: z.enum(KINDS),
    name: z.string().describe('webhook target, Slack destination, Firebase part or poller schedule id'),
    state: z
      .enum(STATES)
      .describe(
        'ok: delivering; degraded: dead letters wait or the last attempt failed and is retried; ' +
          'down: cannot deliver now (circuit open, Slack destination gone, push paused, ' +
          'Firebase unreachable, last poll failed); disabled: not configured or turned off',
      ),
    detail: z.string().nullable().describe('why, for a person'),
    pending: z.number().int().describe('its deliveries waiting in the outbox'),
    dead: z.number().int().describe('its dead letters'),
    lastSuccessAt: z.number().int().nullable(),
    lastErrorAt: z.number().int().nullable(),
    lastError: z.string().nullable(),
  })
  .openapi('BridgeStatus')

const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'webhook:sensors' }),
})

const routes = {
  list: createRoute({
    method: 'get',
    path: '/',
    operationId: 'listBridges',
    summary: 'List every bridge (push, Slack, webhook targets, Firebase, pollers) and its state',
    responses: {
      200: jsonResponse(
        z.object({ items: z.array(BridgeSchema), checkedAt: z.number().int() }),
        'the bridges, push and Slack first',
      ),
      ...errorResponses(401, 403),
    },
  }),
  get: createRoute({
    method: 'get',
    path: '/{id}',
    operationId: 'getBridge',
    summary: 'Get one bridge by its id',
    request: { params: IdParam },
    responses: { 200: jsonResponse(BridgeSchema, 'the bridge'), ...errorResponses(401, 403, 404) },
  }),
}

/** `/api/v1/bridges` (issue 8): the state of every bridge to the outside, for Settings and scripts. */
export function createBridgeRoutes(
  deps: BridgeStatusDeps & { requireAuth: RequireAuth; now?: () => number },
) {
  const now = deps.now ?? Date.now
  const router = createRouter()
  router.use('*', deps.requireAuth('read'))
  router.openapi(routes.list, (c) => c.json({ items: listBridges(deps), checkedAt: now() }, 200))
  router.openapi(routes.get, (c) => {
    const id = c.req.valid('param').id
    const bridge: BridgeStatusView | undefined = listBridges(deps).find((b) => b.id === id)
    if (!bridge) throw Errors.notFound('bridge')
    return c.json(bridge, 200)
  })
  return router
}
