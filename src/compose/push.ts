import type { ActionRunner } from '../actions/runner.ts'
import { createPushBridge, type PushBridge } from '../bridges/fcm/bridge.ts'
import { listPauses } from '../bridges/fcm/progress.ts'
import { PUSH_TRANSIENT_EVENTS } from '../bridges/fcm/push.ts'
import { countPushTokens } from '../bridges/fcm/tokens.ts'
import type { Config } from '../config/schema.ts'
import type { CredentialCache } from '../devices/credentials.ts'
import type { RequireAuth } from '../http/auth/middleware.ts'
import type { Metrics } from '../http/metrics.ts'
import { createPushRoutes } from '../http/routes/push.ts'
import type { Outbox } from '../outbox/outbox.ts'
import type { HubBasics, HubModule } from './module.ts'

interface PushModule extends HubModule {
  push: PushBridge['push']
}

interface PushDeps extends HubBasics {
  requireAuth: RequireAuth
  credentials: CredentialCache
  metrics: Metrics
  outbox: Outbox
  /** The shared runner: the `push` action is registered on it when a reload turns push on. */
  actions: Pick<ActionRunner, 'register' | 'has'>
}

/**
 * FCM push through the outbox. The action exists only with a service account,
 * push's own or else the one the Firebase bridges use (those take no reload: the one they started with).
 */
export function composePush(deps: PushDeps): PushModule {
  const { config, db, bus, log, now, requireAuth, credentials, metrics, outbox } = deps
  const pushConfig = (c: Config['push']) => {
    const account = c.serviceAccount ?? config.firebase.serviceAccount
    return { ...c, ...(account ? { serviceAccount: account } : {}) }
  }
  const results = metrics.counter(
    'hearth_push_results_total',
    'FCM send results by status, one per token per attempt',
  )
  metrics.collect('hearth_push_tokens', 'registered push tokens', 'gauge', () => countPushTokens(db))
  metrics.collect(
    'hearth_push_paused_targets',
    'push targets paused after a batch came back mostly dead',
    'gauge',
    () => listPauses(db).length,
  )
  const bridge = createPushBridge({
    config: pushConfig(config.push),
    db,
    bus,
    log,
    outbox,
    onResult: (status) => results.inc({ status }),
    now,
  })
  const { push } = bridge
  return {
    name: 'push',
    push,
    services: bridge.services,
    api: [{ path: '/push', router: createPushRoutes({ db, bus, push, requireAuth, credentials, now }) }],
    actions: push.enabled ? { push: push.executor } : {},
    reload: [
      {
        keys: ['push'],
        apply(next) {
          bridge.reload(pushConfig(next.push))
          // The runner keeps an executor once registered: turned off and on again, it is there.
          if (push.enabled && !deps.actions.has('push')) deps.actions.register('push', push.executor)
          return undefined
        },
      },
    ],
    transientEvents: PUSH_TRANSIENT_EVENTS,
  }
}
