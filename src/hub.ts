import type { Database } from 'bun:sqlite'
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { registerCoreActions } from './actions/core-actions.ts'
import { aedesPublisher } from './actions/publish.ts'
import { type ActionRunner, createActionRunner } from './actions/runner.ts'
import { registerWebhookAction } from './actions/webhook.ts'
import { createPushBridge } from './bridges/fcm/bridge.ts'
import { PUSH_TRANSIENT_EVENTS } from './bridges/fcm/push.ts'
import { createFirebaseBridge } from './bridges/firebase/bridge.ts'
import { createSlack } from './bridges/slack/slack.ts'
import { createWebhookClient } from './bridges/webhook/client.ts'
import { createAcl } from './broker/acl.ts'
import { createAuth } from './broker/auth.ts'
import { type Broker, createBroker } from './broker/broker.ts'
import { createConformance } from './broker/conformance.ts'
import { createDottedTopics } from './broker/dotted.ts'
import type { BrokerPlugin } from './broker/hooks.ts'
import { createLimits } from './broker/limits.ts'
import { createSqlitePersistence } from './broker/persistence/sqlite-persistence.ts'
import { createPresence } from './broker/presence.ts'
import { createSysStats, type SysStats } from './broker/sys.ts'
import { createTcpListener, type TcpListener } from './broker/tcp-listener.ts'
import { createTlsListener, type TlsListener } from './broker/tls-listener.ts'
import { createMqttWsRoute } from './broker/ws-listener.ts'
import { type Bus, createBus } from './bus/bus.ts'
import type { Config } from './config/schema.ts'
import { createCredentialCache } from './devices/credentials.ts'
import { createDeviceFeatures, DEVICE_TRANSIENT_EVENTS } from './devices/features.ts'
import { createWebhookEdge } from './hooks/edge.ts'
import { type App, createApp } from './http/app.ts'
import { createRequireAuth } from './http/auth/middleware.ts'
import { type ConsoleChannel, createConsoleChannel } from './http/console/channel.ts'
import { consoleHubInfo } from './http/console/hub-info.ts'
import { createConsoleStatic } from './http/console/static.ts'
import {
  createMetrics,
  createMetricsRoute,
  httpMetricsMiddleware,
  registerHubMetrics,
  registerOutboxMetrics,
} from './http/metrics.ts'
import { createBackupRoutes } from './http/routes/backup.ts'
import { createBridgeRoutes } from './http/routes/bridges.ts'
import { createCoreApi } from './http/routes/core-api.ts'
import { createIngestRoutes } from './http/routes/ingest.ts'
import { createRuleRoutes } from './http/routes/rules.ts'
import { createScheduleRoutes } from './http/routes/schedules.ts'
import { createTelemetryRoutes } from './http/routes/telemetry.ts'
import { createHttpServer, type HttpServer } from './http/server.ts'
import { httpTls } from './http/tls.ts'
import { systemClock } from './jobs/clock.ts'
import { createScheduler, type Scheduler } from './jobs/scheduler.ts'
import type { Logger } from './log.ts'
import { createRulesService, type RulesService } from './rules/service.ts'
import { type Backoff, createRuntime, type Runtime } from './runtime/runtime.ts'
import type { ServiceEntry } from './runtime/service.ts'
import { createEventLog } from './store/event-log.ts'
import { queryEvents } from './store/events.ts'
import { lockDataDir } from './store/lock.ts'
import { openStore } from './store/open.ts'
import { countUsers, createUser } from './store/users.ts'
import { createTelemetry, TELEMETRY_TRANSIENT_EVENTS } from './telemetry/telemetry.ts'
import type { TelemetryWriter } from './telemetry/writer.ts'
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
  readonly actions: ActionRunner
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
  let broker: Broker | undefined
  let sys: SysStats | undefined
  let tcp: TcpListener | undefined
  let tls: TlsListener | undefined
  let http: HttpServer | undefined
  let httpApp: App | undefined
  let stopping: Promise<void> | undefined
  let consoleChannel: ConsoleChannel | undefined
  let scheduler: Scheduler | undefined
  let rules: RulesService | undefined
  // Publish, event and poll are carried out by the hub itself (issue 5); push, slack, setDesired by later bridges.
  const actions = createActionRunner({ log, bus, now })
  let telemetryWriter: TelemetryWriter | undefined
  registerCoreActions(actions, {
    bus,
    publish: aedesPublisher(() => need(broker, 'broker').aedes),
    // Pollers' readings go through the writer, like ingest and MQTT readings (issue 5 point 4).
    record: (readings) => need(telemetryWriter, 'telemetry').write(readings, 'poll'),
    now,
  })

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
    get sys() {
      return need(sys, 'sys')
    },
    get mqttPort() {
      return need(tcp, 'mqtt').port
    },
    get mqttTlsPort() {
      return tls?.port
    },
    get httpPort() {
      return need(http, 'http').port
    },
    get httpUrl() {
      return need(http, 'http').url
    },
    get app() {
      return need(httpApp, 'http')
    },
    get initialAdminPassword() {
      return initialAdminPassword
    },
    get console() {
      return need(consoleChannel, 'console')
    },
    actions,
    get rules() {
      return need(rules, 'rules')
    },
    get scheduler() {
      return need(scheduler, 'scheduler')
    },

    async start() {
      mkdirSync(config.dataDir, { recursive: true })
      unlock = lockDataDir(config.dataDir)
      try {
        const store = openStore(config.dataDir, () => new Date(now()))
        db = store.db
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
        const database = db
        consoleChannel = createConsoleChannel({
          db,
          bus,
          log,
          now,
          // The console's first frame: recent events, and the ports and topics its snippets show (issue 8).
          snapshot: () => ({
            events: queryEvents(database, { limit: 100 }).items,
            hub: consoleHubInfo(config, { mqtt: hub.mqttPort, mqttTls: hub.mqttTlsPort }),
          }),
        })
        // One argon2id cache for MQTT and HTTP: a device verified on either is fast on both.
        const credentials = createCredentialCache()
        const auth = createAuth({
          db,
          bus,
          log,
          allowAnonymous: config.mqtt.allowAnonymous,
          credentials,
          now,
        })
        const acl = createAcl({
          db,
          bus,
          log,
          identityOf: auth.identityOf,
          rules: config.mqtt.acl,
          anonymousRules: config.mqtt.anonymousAcl,
          disconnectOnDenied: config.mqtt.disconnectOnDenied,
          now,
        })
        const presence = createPresence({
          db,
          bus,
          log,
          deviceOf: auth.deviceOf,
          availabilityTopic: config.mqtt.availabilityTopic,
          now,
        })
        // Issue 3 points 6, 7, 9, 10: limits refuse cheaply first; dotted topics are rewritten to `/`
        // before conformance checks them; auth and the ACL then see only well-formed packets; $SYS
        // counts last, so only what was delivered.
        const m = config.mqtt
        const limits = createLimits({ log, ...m, now })
        const dotted = createDottedTopics({ log, all: m.dottedTopics, clients: m.dottedTopicsClients })
        const conformance = createConformance({ log, maxTopicLevels: m.maxTopicLevels })
        const dropped = () => limits.counters().droppedMessages
        sys = createSysStats({ log, interval: m.sysInterval, version: VERSION, dropped, now })
        // Telemetry storage and MQTT extraction (issue 5 point 1); its writer also serves /ingest.
        const telemetry = createTelemetry({
          db,
          bus,
          log,
          config: config.telemetry,
          deviceOf: auth.deviceOf,
          now,
        })
        telemetryWriter = telemetry.writer
        const plugins: BrokerPlugin[] = [
          limits,
          dotted,
          conformance,
          auth,
          acl,
          presence,
          sys.plugin,
          telemetry.mqtt,
        ]
        // Groups, messaging, upstream and device state (issue 7); group members read groups/<id>/#.
        const devices = createDeviceFeatures({
          db,
          bus,
          log,
          config: config.devices,
          deviceOf: auth.deviceOf,
          acl,
          actions,
          requireAuth,
          now,
        })
        devices.registerConsole(consoleChannel)
        plugins.push(...devices.plugins)
        // Retained messages, sessions, queues and wills in the hub's database (issue 3 point 2); its
        // plugin goes last so it journals only what every other plugin accepted.
        const mqttStore = createSqlitePersistence({ db, log })
        broker = createBroker({
          log,
          plugins: [...plugins, mqttStore.plugin],
          aedes: { persistence: mqttStore, maxTopicLevels: m.maxTopicLevels },
        })
        tcp = createTcpListener({ broker, log, host: config.mqtt.host, port: config.mqtt.port })
        const { cert, key } = config.mqtt.tls
        tls =
          cert && key
            ? createTlsListener({
                broker,
                log,
                host: config.mqtt.host,
                port: config.mqtt.tls.port,
                cert,
                key,
                ca: config.mqtt.tls.ca,
                requireClientCert: config.mqtt.tls.requireClientCert,
              })
            : undefined
        // HTTPS when http.tls has a certificate and key (issue 4 point 2); cookies are then Secure.
        const https = httpTls(config.http.tls)
        // One Prometheus registry per hub: services add their own metrics to it (issue 4 point 8).
        const metrics = createMetrics()
        const brokerStats = sys
        registerHubMetrics(metrics, { db, brokerStats: () => brokerStats.stats() })
        // Inbound hooks, outbound webhook targets and the outbox (issue 4 points 4, 6, 7).
        const webhooks = createWebhookEdge({ config, db, bus, log, broker, requireAuth, now })
        registerOutboxMetrics(metrics, () => webhooks.outbox.stats())
        // Webhook actions go through the outbox, like every outbound delivery (issue 5 point 2).
        registerWebhookAction(actions, {
          outbox: webhooks.outbox,
          targets: webhooks.targets,
          client: createWebhookClient({ now }),
          now,
        })
        // FCM push through the outbox (issue 6 point 1); the action exists only with a service account,
        // push's own or else the one the Firebase bridges use.
        const pushAccount = config.push.serviceAccount ?? config.firebase.serviceAccount
        const pushBridge = createPushBridge({
          config: { ...config.push, ...(pushAccount ? { serviceAccount: pushAccount } : {}) },
          db,
          bus,
          log,
          outbox: webhooks.outbox,
          metrics,
          requireAuth,
          credentials,
          now,
        })
        if (pushBridge.push.enabled) actions.register('push', pushBridge.push.executor)
        // Slack alerts and the slack action, through the outbox (issue 6 point 2).
        const slack = createSlack({ config: config.slack, bus, log, outbox: webhooks.outbox, metrics, now })
        if (slack.enabled) actions.register('slack', slack.executor)
        // Schedules (issue 5 points 3, 4): SQLite-backed, croner-timed, supervised.
        scheduler = createScheduler({
          db,
          bus,
          log,
          actions,
          clock: systemClock(now),
          timezone: config.timezone,
          configured: config.schedules,
        })
        // RTDB mirror, Firestore schedules and the firestore action (issue 6 points 3, 4).
        const firebase = createFirebaseBridge({
          config: config.firebase,
          db,
          bus,
          log,
          broker,
          outbox: webhooks.outbox,
          scheduler,
          actions,
          requireAuth,
          metrics,
          now,
        })
        // Rules (issue 5 point 2): config and API rules, fed by the bus and the broker.
        const ruleSet = createRulesService({
          db,
          bus,
          log,
          aedes: () => need(broker, 'broker').aedes,
          runner: actions,
          configRules: config.rules,
          now,
        })
        rules = ruleSet
        const app = createApp({
          log,
          maxBodyBytes: config.http.maxBodyBytes,
          corsOrigins: config.http.corsOrigins,
          middleware: [httpMetricsMiddleware(metrics)],
          readiness: [
            { name: 'database', check: () => isWritable(need(db, 'db')) },
            { name: 'broker', check: () => Boolean(broker && !broker.aedes.closed) },
          ],
          api: [
            ...createCoreApi({
              db,
              bus,
              broker,
              requireAuth,
              sessionTtlMs: config.http.sessionTtl,
              secureCookie: Boolean(https),
              forgetDevice: (id) => credentials.forget(id),
              now,
            }),
            ...webhooks.api,
            ...pushBridge.api,
            ...firebase.api,
            { path: '/telemetry', router: createTelemetryRoutes({ telemetry, requireAuth, now }) },
            { path: '/schedules', router: createScheduleRoutes({ scheduler, requireAuth }) },
            { path: '/rules', router: createRuleRoutes({ db, bus, log, rules: ruleSet, requireAuth, now }) },
            { path: '/backup', router: createBackupRoutes({ db, requireAuth, now }) },
            {
              path: '/bridges',
              router: createBridgeRoutes({
                db,
                outbox: webhooks.outbox,
                targets: webhooks.targets,
                push: pushBridge.push,
                slack,
                firebase,
                scheduler,
                requireAuth,
                now,
              }),
            },
            ...devices.api,
          ],
          routes: [
            ...webhooks.routes,
            {
              path: '/ingest',
              router: createIngestRoutes({ db, bus, writer: telemetry.writer, credentials, now }),
            },
            {
              path: '/metrics',
              router: createMetricsRoute({ metrics, requireAuth, public: config.http.metricsPublic }),
            },
            // The console (issue 8): last, so every route above wins over its `/`.
            { path: '/', router: createConsoleStatic() },
          ],
        })
        httpApp = app
        http = createHttpServer({
          app,
          log,
          host: config.http.host,
          port: config.http.port,
          ...(https ? { tls: https } : {}),
          websockets: [
            consoleChannel.route,
            ...(m.websocket.enabled ? [createMqttWsRoute({ broker, log, path: m.websocket.path })] : []),
          ],
        })

        // Presence comes after the listeners: it stops first and says `offline` while the broker is up.
        const consoleService = { name: 'console', start: consoleChannel.start, stop: consoleChannel.stop }
        const entries: ServiceEntry[] = [
          eventLog,
          ...telemetry.services,
          broker,
          sys,
          ...devices.services,
          ...webhooks.services,
          ...pushBridge.services,
          { service: slack, restart: true },
          { service: scheduler, restart: true },
          ...firebase.services,
          ruleSet.service,
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
