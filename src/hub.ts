import type { Database } from 'bun:sqlite'
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ActionRunner } from './actions/runner.ts'
import type { Broker } from './broker/broker.ts'
import type { SysStats } from './broker/sys.ts'
import { type Bus, createBus } from './bus/bus.ts'
import type { Action } from './catalog/actions.ts'
import { type Automation, composeAutomation, createHubActions } from './compose/automation.ts'
import { composeBridges } from './compose/bridges.ts'
import { type BrokerParts, composeBroker } from './compose/broker.ts'
import { type Core, composeCore, type HubBasics } from './compose/core.ts'
import { composeHttp, type HttpParts, prepareHttp } from './compose/http.ts'
import { applyReload, type ReloadResult, type ReloadStep } from './compose/reload.ts'
import { withPathsFrom } from './config/diff.ts'
import { ConfigError } from './config/load.ts'
import type { Config } from './config/schema.ts'
import type { App } from './http/app.ts'
import type { ConsoleChannel } from './http/console/channel.ts'
import type { Scheduler } from './jobs/scheduler.ts'
import type { Logger } from './log.ts'
import type { RulesService } from './rules/service.ts'
import { type Backoff, createRuntime, type Runtime } from './runtime/runtime.ts'
import type { ServiceEntry } from './runtime/service.ts'
import { INITIAL_ADMIN_FILE, INITIAL_ADMIN_USER } from './store/initial-admin.ts'
import { lockDataDir } from './store/lock.ts'
import { openStore } from './store/open.ts'
import { countUsers, createUser } from './store/users.ts'
import { VERSION } from './version.ts'

export { INITIAL_ADMIN_FILE } from './store/initial-admin.ts'

export interface HubOptions {
  config: Config
  log: Logger
  /** A service that is not supervised failed while running: the caller should exit non-zero. */
  onFatal?(err: unknown, service: string): void
  backoff?: Backoff
  now?: () => number
}

/** A reload that was applied, or one refused with the problems found (the running config stays). */
export type ReloadOutcome = ({ ok: true } & ReloadResult) | { ok: false; problems: string[] }

export interface Hub {
  start(): Promise<void>
  stop(): Promise<void>
  /**
   * Applies a new config while running (SIGHUP): `load` reads it; what changed is applied live
   * where it can be, the rest named as needing a restart in the log and the `config.reloaded`
   * event. A config that does not load, or a step that fails (an unreadable certificate),
   * changes nothing: it is logged with its key paths and raised as an `alert`.
   */
  reload(load: () => Config): ReloadOutcome
  readonly db: Database
  readonly bus: Bus
  readonly broker: Broker
  /** Broker statistics, also published as `$SYS/broker/…`. */
  readonly sys: SysStats
  readonly mqttPort: number
  /** The MQTT over TLS port; undefined when no certificate is configured. */
  readonly mqttTlsPort: number | undefined
  readonly httpPort: number
  readonly httpUrl: string
  /** The console's live channel at `/ws`; later features register their request actions on it. */
  readonly console: ConsoleChannel
  /** Set on the first start of an empty database: the generated admin password, shown once. */
  readonly initialAdminPassword: string | undefined
  /** The HTTP app, for in-process requests and the check that OpenAPI lists every route. */
  readonly app: App
  /** The action runner rules and schedules share; later bridges register their kinds on it. */
  readonly actions: ActionRunner<Action>
  /** The rules service: config and API rules, evaluated on bus events and MQTT publishes. */
  readonly rules: RulesService
  /** The scheduler service; tests call `tick()` after moving the injected clock. */
  readonly scheduler: Scheduler
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
  let stopping: Promise<void> | undefined
  let core: Core | undefined
  let mqtt: BrokerParts | undefined
  let automation: Automation | undefined
  let web: HttpParts | undefined
  let reloadSteps: ReloadStep[] = []
  // What really runs: keys that need a restart keep their old values here until then.
  let running = config

  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`hub is not started (${what})`)
    return v
  }

  const actions = createHubActions({
    log,
    bus,
    now,
    broker: () => need(mqtt, 'broker').broker,
    telemetryWriter: () => need(mqtt, 'telemetry').telemetry.writer,
  })

  const hub: Hub = {
    get db() {
      return need(db, 'db')
    },
    bus,
    get broker() {
      return need(mqtt, 'broker').broker
    },
    get sys() {
      return need(mqtt, 'sys').sys
    },
    get mqttPort() {
      return need(mqtt, 'mqtt').tcp.port
    },
    get mqttTlsPort() {
      return mqtt?.tls?.port
    },
    get httpPort() {
      return need(web, 'http').server.port
    },
    get httpUrl() {
      return need(web, 'http').server.url
    },
    get app() {
      return need(web, 'http').app
    },
    get initialAdminPassword() {
      return initialAdminPassword
    },
    get console() {
      return need(core, 'console').consoleChannel
    },
    actions,
    get rules() {
      return need(automation, 'rules').rules
    },
    get scheduler() {
      return need(automation, 'scheduler').scheduler
    },

    async start() {
      mkdirSync(config.dataDir, { recursive: true })
      unlock = lockDataDir(config.dataDir)
      try {
        const store = openStore(config.dataDir, () => new Date(now()))
        db = store.db
        const basics: HubBasics = { config, db, bus, log, now }
        core = composeCore({ ...basics, mqttPorts: () => ({ mqtt: hub.mqttPort, mqttTls: hub.mqttTlsPort }) })
        mqtt = composeBroker({ ...basics, ...core, actions })
        const httpBase = prepareHttp({ config, db, sys: mqtt.sys })
        automation = composeAutomation({ ...basics, actions, broker: mqtt.broker })
        const bridges = composeBridges({
          ...basics,
          ...core,
          ...httpBase,
          broker: mqtt.broker,
          actions,
          scheduler: automation.scheduler,
        })
        web = composeHttp({ ...basics, ...httpBase, ...core, ...mqtt, ...bridges, ...automation })
        reloadSteps = [
          ...mqtt.reload,
          ...bridges.reload,
          ...automation.reload,
          {
            keys: ['log.level'],
            apply(next) {
              log.setLevel(next.log.level)
              return undefined
            },
          },
        ]

        const { eventLog, consoleChannel } = core
        const { broker, sys, presence, telemetry, devices, homeAssistant, tcp, tls } = mqtt
        const { webhooks, push, slack, firebase } = bridges
        const { scheduler, rules } = automation
        const http = web.server
        const consoleService = { name: 'console', start: consoleChannel.start, stop: consoleChannel.stop }
        // Presence comes after the listeners: it stops first and says `offline` while the broker is up.
        const entries: ServiceEntry[] = [
          eventLog,
          ...telemetry.services,
          broker,
          sys,
          ...devices.services,
          ...(homeAssistant ? [homeAssistant] : []),
          ...webhooks.services,
          ...push.services,
          { service: slack, restart: true },
          { service: scheduler, restart: true },
          ...firebase.services,
          rules.service,
          tcp,
          ...(tls ? [tls] : []),
          consoleService,
          http,
          presence,
        ]
        runtime = createRuntime({
          log,
          bus,
          entries,
          onFatal: (err, service) => opts.onFatal?.(err, service),
          ...(opts.backoff ? { backoff: opts.backoff } : {}),
          now,
        })
        await runtime.start()
        if (store.upgraded)
          log.info('database upgraded; the copy from before stays until the next upgrade', {
            ...store.upgraded,
          })
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

    reload(load) {
      const reloadLog = log.child('config')
      const refuse = (problems: string[]): ReloadOutcome => {
        reloadLog.error('config reload failed; the running config stays', { problems })
        bus.emit('alert', {
          source: 'config',
          severity: 'critical',
          message: `config reload failed, the running config stays: ${problems.join('; ')}`,
        })
        return { ok: false, problems }
      }
      if (!runtime || stopping) return refuse(['the hub is not running'])
      let next: Config
      try {
        next = load()
      } catch (err) {
        return refuse(err instanceof ConfigError ? err.problems : [(err as Error).message])
      }
      let result: ReloadResult
      try {
        result = applyReload(reloadSteps, running, next)
      } catch (err) {
        return refuse([(err as Error).message])
      }
      running = withPathsFrom(next, running, result.needsRestart)
      reloadLog.info('config reloaded', { ...result })
      if (result.needsRestart.length)
        reloadLog.warn('some changes take effect only after a restart', { needsRestart: result.needsRestart })
      bus.emit('config.reloaded', result)
      return { ok: true, ...result }
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
    await createUser(database, INITIAL_ADMIN_USER, password, 'admin', now())
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
