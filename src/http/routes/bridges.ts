import { createRoute, z } from '@hono/zod-openapi'
import { type BridgeStatusDeps, listBridges } from '../../bridges/status.ts'
import { type BridgeStatusView, bridgeStatusViewSchema } from '../../bridges/status-schema.ts'
import { Errors } from '../../errors.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { errorResponses, jsonResponse } from './api-shared.ts'

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
        z.object({ items: z.array(bridgeStatusViewSchema), checkedAt: z.number().int() }),
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
    responses: { 200: jsonResponse(bridgeStatusViewSchema, 'the bridge'), ...errorResponses(401, 403, 404) },
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
