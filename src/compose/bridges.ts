import type { BridgeStatusDeps } from '../bridges/status.ts'
import type { RequireAuth } from '../http/auth/middleware.ts'
import { createBridgeRoutes } from '../http/routes/bridges.ts'
import type { HubModule } from './module.ts'

/** `/api/v1/bridges`: the state of every bridge to the outside, read from the bridge modules. */
export function composeBridgeStatus(
  deps: BridgeStatusDeps & { requireAuth: RequireAuth; now: () => number },
): HubModule {
  return { name: 'bridge-status', api: [{ path: '/bridges', router: createBridgeRoutes(deps) }] }
}
