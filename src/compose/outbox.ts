import type { RequireAuth } from '../http/auth/middleware.ts'
import { type Metrics, registerOutboxMetrics } from '../http/metrics.ts'
import { createOutboxApi } from '../http/routes/outbox.ts'
import { createOutbox, type Outbox } from '../outbox/outbox.ts'
import type { HubBasics, HubModule } from './module.ts'

interface OutboxModule extends HubModule {
  outbox: Outbox
}

/**
 * The durable delivery queue every outbound bridge shares: created once, handed
 * to the webhook, push, Slack and Firebase modules, which register their delivery kinds on it.
 */
export function composeOutbox(
  deps: HubBasics & { requireAuth: RequireAuth; metrics: Metrics },
): OutboxModule {
  const { config, db, bus, log, now, requireAuth, metrics } = deps
  const outbox = createOutbox({ db, bus, log, config: config.outbox, now })
  registerOutboxMetrics(metrics, () => outbox.stats())
  return {
    name: 'outbox',
    outbox,
    services: [{ service: outbox, restart: true }],
    api: [{ path: '/outbox', router: createOutboxApi({ outbox, requireAuth }) }],
  }
}
