import type { Database } from 'bun:sqlite'
import { mkdirSync } from 'node:fs'
import { type ActionRunner, createActionRunner } from './actions/runner.ts'
import type { Broker } from './broker/broker.ts'
import type { SysStats } from './broker/sys.ts'
import { type Bus, createBus } from './bus/bus.ts'
import type { Action } from './catalog/actions.ts'
import { composeCoreActions, composeRules, composeScheduler } from './compose/automation.ts'
import { composeBridgeStatus } from './compose/bridges.ts'
import { composeBroker, composeBrokerPolicy, composePresence } from './compose/broker.ts'
import { composeEventLog, composeLogging, composeShared } from './compose/core.ts'
import { composeDevices } from './compose/devices.ts'
import { composeFirebase } from './compose/firebase.ts'
import { announceStore, ensureAdmin } from './compose/first-start.ts'
import { composeHttp, type HttpModule } from './compose/http.ts'
import { composeListeners, type ListenersModule } from './compose/listeners.ts'
import { collect, type HubBasics, type HubModule, registerActions } from './compose/module.ts'
import { composeOutbox } from './compose/outbox.ts'
import { composePush } from './compose/push.ts'
import { applyReload, type ReloadResult } from './compose/reload.ts'
import { composeSlack } from './compose/slack.ts'
import { composeHomeAssistant, composeTelemetry } from './compose/telemetry.ts'
import { composeInboundHooks, composeWebhookTargets } from './compose/webhooks.ts'
import { withPathsFrom } from './config/diff.ts'
import { ConfigError } from './config/load.ts'
import type { Config } from './config/schema.ts'
import type { App } from './http/app.ts'
import type { ConsoleChannel } from './http/console/channel.ts'
import type { Scheduler } from './jobs/scheduler.ts'
import type { Logger } from './log.ts'
import type { RulesService } from './rules/service.ts'
import { type Backoff, createRuntime, type Runtime } from './runtime/runtime.ts'
import { lockDataDir } from './store/lock.ts'
import { openStore, type OpenedStore as Store } from './store/open.ts'
import { VERSION } from './version.ts'

export { INITIAL_ADMIN_FILE } from './store/initial-admin.ts'

interface HubOptions {
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

/** What exists once the store is open and every module is built. */
interface Built {
  db: Database
  modules: HubModule[]
  broker: Broker
  sys: SysStats
  listeners: ListenersModule
  http: HttpModule
  rules: RulesService
  scheduler: Scheduler
}

/**
 * Builds every module on the open store, in dependency order, and answers them in start order.
 * Modules with broker plugins are built before the broker; the HTTP edge, which mounts the
 * others' routes, and the event log, which skips their transient events, after them.
 */
function buildModules(basics: HubBasics, actions: ActionRunner<Action>): Built {
  const { config, db, bus, log, now } = basics
  const shared = composeShared(basics)
  const { requireAuth, metrics } = shared
  const policy = composeBrokerPolicy({ ...basics, credentials: shared.credentials })
  const deviceOf = policy.auth.deviceOf
  const telemetry = composeTelemetry({ ...basics, ...shared, deviceOf })
  const devices = composeDevices({ ...basics, requireAuth, acl: policy.acl, deviceOf, actions })
  const plugins = collect([telemetry, devices], 'brokerPlugins')
  const mqtt = composeBroker({ ...basics, policy, plugins, metrics })
  const { broker } = mqtt
  const outbox = composeOutbox({ ...basics, requireAuth, metrics })
  const webhooks = composeWebhookTargets({ ...basics, requireAuth, broker, outbox: outbox.outbox })
  const push = composePush({ ...basics, ...shared, outbox: outbox.outbox, actions })
  const slack = composeSlack({ ...basics, metrics, outbox: outbox.outbox, actions })
  const scheduler = composeScheduler({ ...basics, requireAuth, actions })
  const firebase = composeFirebase({
    ...basics,
    requireAuth,
    metrics,
    broker,
    outbox: outbox.outbox,
    scheduler: scheduler.scheduler,
  })
  const rules = composeRules({ ...basics, requireAuth, actions, broker })
  const listeners = composeListeners({ config, log, broker })
  // Start order: the telemetry writer before the broker delivers; device services, bridges,
  // schedules and rules after it; the listeners once every consumer runs.
  const features: HubModule[] = [
    telemetry,
    mqtt,
    devices,
    composeHomeAssistant({ ...basics, broker, telemetry: telemetry.telemetry }),
    composeCoreActions({ bus, now, broker, writer: telemetry.telemetry.writer }),
    outbox,
    webhooks,
    composeInboundHooks({ ...basics, requireAuth, broker }),
    push,
    slack,
    scheduler,
    firebase,
    rules,
    composeBridgeStatus({
      db,
      outbox: outbox.outbox,
      targets: webhooks.targets,
      push: push.push,
      slack: slack.slack,
      firebase: firebase.firebase,
      scheduler: scheduler.scheduler,
      requireAuth,
      now,
    }),
    listeners,
  ]
  const http = composeHttp({
    ...basics,
    ...shared,
    broker,
    presence: policy.presence,
    tcp: listeners.tcp,
    tls: listeners.tls,
    modules: features,
  })
  const events = composeEventLog(basics, collect([...features, http], 'transientEvents'))
  // Presence comes after the listeners: it stops first and says `offline` while the broker is up.
  const modules = [events, ...features, http, composePresence(policy), composeLogging(log)]
  registerActions(actions, modules)
  return {
    db,
    modules,
    broker,
    sys: mqtt.sys,
    listeners,
    http,
    rules: rules.rules,
    scheduler: scheduler.scheduler,
  }
}

/** The running hub: the modules built on the open store and the runtime that started their services. */
interface Running extends Built {
  runtime: Runtime
}

/**
 * The hub from its config. Building does no I/O; `start()` claims the data dir, opens the store,
 * builds the modules on it and starts their services in order; `stop()` reverses it. What needs
 * the store (`db`, `broker`, the ports, `app` …) is there once `start()` resolved.
 */
export function createHub(opts: HubOptions): Hub {
  const { config, log } = opts
  const now = opts.now ?? Date.now
  const bus = createBus(log.child('bus'), now)
  // Rules and schedules share it; modules register their kinds on it as they are built.
  const actions = createActionRunner<Action>({ log, bus, now })
  let running: Running | undefined
  let unlock: (() => void) | undefined
  let initialAdminPassword: string | undefined
  let stopping: Promise<void> | undefined
  // What really runs: keys that need a restart keep their old values here until then.
  let runningConfig = config

  const started = (): Running => {
    if (!running) throw new Error('hub is not started')
    return running
  }

  const hub: Hub = {
    get db() {
      return started().db
    },
    bus,
    get broker() {
      return started().broker
    },
    get sys() {
      return started().sys
    },
    get mqttPort() {
      return started().listeners.tcp.port
    },
    get mqttTlsPort() {
      return running?.listeners.tls?.port
    },
    get httpPort() {
      return started().http.server.port
    },
    get httpUrl() {
      return started().http.server.url
    },
    get app() {
      return started().http.app
    },
    get initialAdminPassword() {
      return initialAdminPassword
    },
    get console() {
      return started().http.consoleChannel
    },
    actions,
    get rules() {
      return started().rules
    },
    get scheduler() {
      return started().scheduler
    },

    async start() {
      mkdirSync(config.dataDir, { recursive: true })
      unlock = lockDataDir(config.dataDir)
      let store: Store | undefined
      try {
        store = openStore(config.dataDir, () => new Date(now()))
        const built = buildModules({ config, db: store.db, bus, log, now }, actions)
        const runtime = createRuntime({
          log,
          bus,
          entries: collect(built.modules, 'services'),
          onFatal: (err, service) => opts.onFatal?.(err, service),
          ...(opts.backoff ? { backoff: opts.backoff } : {}),
          now,
        })
        running = { ...built, runtime }
        await runtime.start()
        announceStore(store, log, bus)
        initialAdminPassword = await ensureAdmin(store.db, config, now)
        bus.emit('hub.started', {
          version: VERSION,
          mqttPort: built.listeners.tcp.port,
          httpPort: built.http.server.port,
        })
      } catch (err) {
        // A store opened before a module failed to build is closed too.
        if (!running) closeDb(store?.db)
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
      if (!running || stopping) return refuse(['the hub is not running'])
      let next: Config
      try {
        next = load()
      } catch (err) {
        return refuse(err instanceof ConfigError ? err.problems : [(err as Error).message])
      }
      let result: ReloadResult
      try {
        result = applyReload(collect(running.modules, 'reload'), runningConfig, next)
      } catch (err) {
        return refuse([(err as Error).message])
      }
      runningConfig = withPathsFrom(next, runningConfig, result.needsRestart)
      reloadLog.info('config reloaded', { ...result })
      if (result.needsRestart.length)
        reloadLog.warn('some changes take effect only after a restart', { needsRestart: result.needsRestart })
      bus.emit('config.reloaded', result)
      return { ok: true, ...result }
    },

    stop() {
      stopping ??= (async () => {
        await running?.runtime.stop()
        closeDb(running?.db)
        unlock?.()
      })()
      return stopping
    },
  }

  function closeDb(db: Database | undefined) {
    try {
      db?.close()
    } catch (err) {
      log.error('closing the database failed', { err })
    }
  }

  return hub
}
