import type { Database } from 'bun:sqlite'
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Broker, createBroker } from './broker/broker.ts'
import type { BrokerPlugin } from './broker/hooks.ts'
import { createTcpListener, type TcpListener } from './broker/tcp-listener.ts'
import { type Bus, createBus } from './bus/bus.ts'
import type { Config } from './config/schema.ts'
import { createApp } from './http/app.ts'
import { createHttpServer, type HttpServer } from './http/server.ts'
import type { Logger } from './log.ts'
import { type Backoff, createRuntime, type Runtime } from './runtime/runtime.ts'
import type { ServiceEntry } from './runtime/service.ts'
import { createEventLog } from './store/event-log.ts'
import { lockDataDir } from './store/lock.ts'
import { openStore } from './store/open.ts'
import { countUsers, createUser } from './store/users.ts'
import { VERSION } from './version.ts'

export const INITIAL_ADMIN_FILE = 'initial-admin-password'

export interface HubOptions {
  config: Config
  log: Logger
  /** A service that is not supervised failed while running: the caller should exit non-zero. */
  onFatal?(err: unknown, service: string): void
  backoff?: Backoff
  now?: () => number
}

export interface Hub {
  start(): Promise<void>
  stop(): Promise<void>
  readonly db: Database
  readonly bus: Bus
  readonly broker: Broker
  readonly mqttPort: number
  readonly httpPort: number
  readonly httpUrl: string
  /** Set on the first start of an empty database: the generated admin password, shown once. */
  readonly initialAdminPassword: string | undefined
}

/**
 * Wires every service from the config. Building does no I/O; `start()` claims the data dir,
 * opens the store and starts the services in order; `stop()` reverses it.
 */
export function createHub(opts: HubOptions): Hub {
  const { config } = opts
  const log = opts.log
  const now = opts.now ?? Date.now
  const bus = createBus(log.child('bus'), now)
  let db: Database | undefined
  let runtime: Runtime | undefined
  let unlock: (() => void) | undefined
  let initialAdminPassword: string | undefined
  let broker: Broker | undefined
  let tcp: TcpListener | undefined
  let http: HttpServer | undefined
  let stopping: Promise<void> | undefined

  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`hub is not started (${what})`)
    return v
  }

  const hub: Hub = {
    get db() {
      return need(db, 'db')
    },
    bus,
    get broker() {
      return need(broker, 'broker')
    },
    get mqttPort() {
      return need(tcp, 'mqtt').port
    },
    get httpPort() {
      return need(http, 'http').port
    },
    get httpUrl() {
      return need(http, 'http').url
    },
    get initialAdminPassword() {
      return initialAdminPassword
    },

    async start() {
      mkdirSync(config.dataDir, { recursive: true })
      unlock = lockDataDir(config.dataDir)
      try {
        const store = openStore(config.dataDir, () => new Date(now()))
        db = store.db
        const eventLog = createEventLog({ db, bus, log, retentionMs: config.events.retention, now })
        // Order matters: conformance checks run before the ACL sees a packet.
        const plugins: BrokerPlugin[] = []
        broker = createBroker({ log, plugins })
        tcp = createTcpListener({ broker, log, host: config.mqtt.host, port: config.mqtt.port })
        const app = createApp({
          log,
          maxBodyBytes: config.http.maxBodyBytes,
          corsOrigins: config.http.corsOrigins,
          readiness: [
            { name: 'database', check: () => isWritable(need(db, 'db')) },
            { name: 'broker', check: () => Boolean(broker && !broker.aedes.closed) },
          ],
        })
        http = createHttpServer({ app, log, host: config.http.host, port: config.http.port, websockets: [] })

        const entries: ServiceEntry[] = [eventLog, broker, tcp, http]
        runtime = createRuntime({
          log,
          bus,
          entries,
          onFatal: (err, service) => opts.onFatal?.(err, service),
          ...(opts.backoff ? { backoff: opts.backoff } : {}),
          now,
        })
        await runtime.start()
        if (store.corrupt) {
          log.error('database failed its integrity check; started on a fresh one', store.corrupt)
          bus.emit('store.corrupt', store.corrupt, { subject: 'database' })
          bus.emit('alert', {
            source: 'store',
            severity: 'critical',
            message: `corrupt database moved to ${store.corrupt.movedTo}`,
          })
        }
        initialAdminPassword = await ensureAdmin(db, config)
        bus.emit('hub.started', { version: VERSION, mqttPort: tcp.port, httpPort: http.port })
      } catch (err) {
        await hub.stop()
        throw err
      }
    },

    stop() {
      stopping ??= (async () => {
        await runtime?.stop()
        try {
          db?.close()
        } catch (err) {
          log.error('closing the database failed', { err })
        }
        unlock?.()
      })()
      return stopping
    },
  }

  // ensureAdmin writes the password file here so it exists before anyone is told about it.
  async function ensureAdmin(database: Database, cfg: Config): Promise<string | undefined> {
    if (countUsers(database) > 0) return undefined
    const password = cfg.admin.password ?? randomPassword()
    await createUser(database, 'admin', password, 'admin', now())
    if (cfg.admin.password) return undefined
    const file = join(cfg.dataDir, INITIAL_ADMIN_FILE)
    writeFileSync(file, `${password}\n`, { mode: 0o600 })
    chmodSync(file, 0o600)
    return password
  }

  return hub
}

/** A URL-safe random secret of `bytes` random bytes. */
export function randomPassword(bytes = 24): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('base64url')
}

function isWritable(db: Database): boolean {
  db.run(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ['ready-check', String(Date.now())],
  )
  return true
}
