import type { ServiceEntry } from '../../runtime/service.ts'
import { createAccessTokens } from '../google/auth.ts'
import { createFcmClient } from './client.ts'
import type { PushConfig } from './config.ts'
import { createPush, type Push, type PushOptions } from './push.ts'
import { parseServiceAccount } from './service-account.ts'

/** The OAuth scope of FCM HTTP v1 sends. */
const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging'

interface PushBridgeOptions extends Omit<PushOptions, 'config' | 'client'> {
  config: PushConfig
  fetch?: typeof fetch
}

/** FCM push with the client its config and service account make. */
export interface PushBridge {
  push: Push
  services: ServiceEntry[]
  /** Takes new `push.*` settings (a config reload): a new service account, endpoint or batching. */
  reload(config: PushConfig): void
}

export function createPushBridge(opts: PushBridgeOptions): PushBridge {
  const { config } = opts
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
  const push = createPush({ ...opts, client })
  return {
    push,
    reload: (next) => push.reconfigure(clientFor(next), next),
    services: [{ service: push, restart: true }],
  }
}
