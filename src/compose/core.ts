import type { Database } from 'bun:sqlite'
import { PUSH_TRANSIENT_EVENTS } from '../bridges/fcm/push.ts'
import type { Bus } from '../bus/bus.ts'
import type { Config } from '../config/schema.ts'
import { type CredentialCache, createCredentialCache } from '../devices/credentials.ts'
import { DEVICE_TRANSIENT_EVENTS } from '../devices/features.ts'
import { createRequireAuth, type RequireAuth } from '../http/auth/middleware.ts'
import { type ConsoleChannel, createConsoleChannel } from '../http/console/channel.ts'
import { consoleHubInfo } from '../http/console/hub-info.ts'
import type { Logger } from '../log.ts'
import { createEventLog } from '../store/event-log.ts'
import { queryEvents } from '../store/events.ts'
import { TELEMETRY_TRANSIENT_EVENTS } from '../telemetry/telemetry.ts'

/** What every composition step takes: the config, the open store, the bus, the logger and the clock. */
export interface HubBasics {
  config: Config
  db: Database
  bus: Bus
  log: Logger
  now: () => number
}

export interface CoreDeps extends HubBasics {
  /** The MQTT ports, read when a console connects (the listeners are built later). */
  mqttPorts(): { mqtt: number; mqttTls: number | undefined }
}

export interface Core {
  eventLog: ReturnType<typeof createEventLog>
  requireAuth: RequireAuth
  consoleChannel: ConsoleChannel
  credentials: CredentialCache
}

/** The parts most others share: the event log, the HTTP auth guard, the console channel, credentials. */
export function composeCore({ config, db, bus, log, now, mqttPorts }: CoreDeps): Core {
  const eventLog = createEventLog({
    db,
    bus,
    log,
    retentionMs: config.events.retention,
    transient: new Set([
      ...TELEMETRY_TRANSIENT_EVENTS,
      ...DEVICE_TRANSIENT_EVENTS,
      ...PUSH_TRANSIENT_EVENTS,
      'hook.body',
    ]),
    now,
  })
  // Every API router takes its guard from here: session cookie or bearer token, CSRF, scopes.
  const requireAuth = createRequireAuth({ db, now })
  const consoleChannel = createConsoleChannel({
    db,
    bus,
    log,
    now,
    // The console's first frame: recent events, and the ports and topics its snippets show (issue 8).
    snapshot: () => ({
      events: queryEvents(db, { limit: 100 }).items,
      hub: consoleHubInfo(config, mqttPorts()),
    }),
  })
  // One argon2id cache for MQTT and HTTP: a device verified on either is fast on both.
  const credentials = createCredentialCache()
  return { eventLog, requireAuth, consoleChannel, credentials }
}
