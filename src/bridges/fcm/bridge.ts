import type { Database } from 'bun:sqlite'
import type { Bus } from '../../bus/bus.ts'
import type { CredentialCache } from '../../devices/credentials.ts'
import type { ApiMount } from '../../http/api.ts'
import type { RequireAuth } from '../../http/auth/middleware.ts'
import type { Metrics } from '../../http/metrics.ts'
import { createPushRoutes } from '../../http/routes/push.ts'
import type { Logger } from '../../log.ts'
import type { Outbox } from '../../outbox/outbox.ts'
import type { ServiceEntry } from '../../runtime/service.ts'
import { createAccessTokens } from '../google/auth.ts'
import { createFcmClient } from './client.ts'
import type { PushConfig } from './config.ts'
import { listPauses } from './progress.ts'
import { createPush, type Push } from './push.ts'
import { parseServiceAccount } from './service-account.ts'
import { countPushTokens } from './tokens.ts'

/** The OAuth scope of FCM HTTP v1 sends. */
const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging'

export interface PushBridgeOptions {
  config: PushConfig
  db: Database
  bus: Bus
  log: Logger
  outbox: Outbox
  metrics: Metrics
  requireAuth: RequireAuth
  /** Device password verifications, shared with the broker's auth and `/ingest`. */
  credentials?: CredentialCache
  fetch?: typeof fetch
  now?: () => number
}

/** Everything issue 6 point 1 adds to the hub, for `hub.ts` to mount in one place. */
export interface PushBridge {
  push: Push
  services: ServiceEntry[]
  api: ApiMount[]
  /** Takes new `push.*` settings (a config reload): a new service account, endpoint or batching. */
  reload(config: PushConfig): void
}

export function createPushBridge(opts: PushBridgeOptions): PushBridge {
  const { config, db, metrics } = opts
  const now = opts.now ?? Date.now
  const clientFor = (c: PushConfig) => {
    // push.serviceAccount was checked by the config schema; a key borrowed from firebase.* was not.
    const parsed = c.serviceAccount ? parseServiceAccount(c.serviceAccount) : undefined
    if (parsed?.error)
      opts.log.child('push').warn('push is off: the service account cannot be used', { error: parsed.error })
    const account = parsed?.account
    return account
      ? createFcmClient({
          baseUrl: c.baseUrl,
          projectId: c.projectId ?? account.project_id,
          tokens: createAccessTokens({
            account,
            scopes: [FCM_SCOPE],
            now,
            timeoutMs: c.timeout,
            ...(opts.fetch ? { fetch: opts.fetch } : {}),
          }),
          concurrency: c.concurrency,
          timeoutMs: c.timeout,
          now,
          ...(opts.fetch ? { fetch: opts.fetch } : {}),
        })
      : undefined
  }
  const client = clientFor(config)
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
  const push = createPush({
    db,
    bus: opts.bus,
    log: opts.log,
    outbox: opts.outbox,
    config,
    client,
    onResult: (status) => results.inc({ status }),
    now,
  })
  return {
    push,
    reload: (next) => push.reconfigure(clientFor(next), next),
    services: [{ service: push, restart: true }],
    api: [
      {
        path: '/push',
        router: createPushRoutes({
          db,
          bus: opts.bus,
          push,
          requireAuth: opts.requireAuth,
          credentials: opts.credentials,
          now,
        }),
      },
    ],
  }
}
