import { z } from '@hono/zod-openapi'
import { type BridgeStatusDeps, listBridges } from '../../bridges/status.ts'
import { type BridgeStatusView, bridgeStatusViewSchema } from '../../bridges/status-schema.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { found, getRoute, pathParam } from './route-builders.ts'

const routes = {
  list: getRoute({
    op: ['listBridges', 'List every bridge (push, Slack, webhook targets, Firebase, pollers) and its state'],
    answer: [
      z.object({ items: z.array(bridgeStatusViewSchema), checkedAt: z.number().int() }),
      'the bridges, push and Slack first',
    ],
  }),
  get: getRoute({
    path: '/{id}',
    op: ['getBridge', 'Get one bridge by its id'],
    request: { params: pathParam('id', { example: 'webhook:sensors' }, z.string().min(1)) },
    answer: [bridgeStatusViewSchema, 'the bridge'],
  }),
}

/** `/api/v1/bridges`: the state of every bridge to the outside, for Settings and scripts. */
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
    return c.json(found(bridge, 'bridge'), 200)
  })
  return router
}
