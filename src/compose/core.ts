import type { EventType } from '../bus/events.ts'
import { type CredentialCache, createCredentialCache } from '../devices/credentials.ts'
import { createRequireAuth, type RequireAuth } from '../http/auth/middleware.ts'
import { createMetrics, type Metrics } from '../http/metrics.ts'
import { registerProcessMetrics } from '../http/process-metrics.ts'
import type { Logger } from '../log.ts'
import { createEventLog } from '../store/event-log.ts'
import { VERSION } from '../version.ts'
import type { HubBasics, HubModule } from './module.ts'

/** What many modules share: the HTTP auth guard, the device credential cache, the metrics registry. */
export interface Shared {
  requireAuth: RequireAuth
  credentials: CredentialCache
  metrics: Metrics
}

/** Built right after the store opens: the modules below take these as deps. */
export function composeShared({ db, now }: Pick<HubBasics, 'db' | 'now'>): Shared {
  // Every API router takes its guard from here: session cookie or bearer token, CSRF, scopes.
  const requireAuth = createRequireAuth({ db, now })
  // One argon2id cache for MQTT and HTTP: a device verified on either is fast on both.
  const credentials = createCredentialCache()
  // One Prometheus registry per hub: modules add their own metrics to it.
  const metrics = createMetrics()
  registerProcessMetrics(metrics, { version: VERSION, bun: Bun.version })
  return { requireAuth, credentials, metrics }
}

/**
 * The event log: first in the start order, so its listener numbers each event before consoles
 * see it; built after the other modules, which name the event types it leaves out.
 */
export function composeEventLog(
  { config, db, bus, log, now }: HubBasics,
  transient: readonly EventType[],
): HubModule {
  const eventLog = createEventLog({
    db,
    bus,
    log,
    retentionMs: config.events.retention,
    transient: new Set(transient),
    now,
  })
  return { name: 'events', services: [eventLog] }
}

/** The log level takes a reload. */
export function composeLogging(log: Logger): HubModule {
  return {
    name: 'log',
    reload: [
      {
        keys: ['log.level'],
        apply(next) {
          log.setLevel(next.log.level)
          return undefined
        },
      },
    ],
  }
}
