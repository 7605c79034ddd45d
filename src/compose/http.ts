import type { Database } from 'bun:sqlite'
import type { SysStats } from '../broker/sys.ts'
import { createMqttWsRoute } from '../broker/ws-listener.ts'
import { type App, createApp } from '../http/app.ts'
import { createConsoleStatic } from '../http/console/static.ts'
import {
  createMetrics,
  createMetricsRoute,
  httpMetricsMiddleware,
  type Metrics,
  registerHubMetrics,
} from '../http/metrics.ts'
import { registerProcessMetrics } from '../http/process-metrics.ts'
import { createBackupRoutes } from '../http/routes/backup.ts'
import { createBridgeRoutes } from '../http/routes/bridges.ts'
import { createCoreApi } from '../http/routes/core-api.ts'
import { createIngestRoutes } from '../http/routes/ingest.ts'
import { createRuleRoutes } from '../http/routes/rules.ts'
import { createScheduleRoutes } from '../http/routes/schedules.ts'
import { createTelemetryRoutes } from '../http/routes/telemetry.ts'
import { createHttpServer, type HttpServer } from '../http/server.ts'
import { httpTls } from '../http/tls.ts'
import { forgetInitialAdminPassword } from '../store/initial-admin.ts'
import { VERSION } from '../version.ts'
import type { Automation } from './automation.ts'
import type { Bridges } from './bridges.ts'
import type { BrokerParts } from './broker.ts'
import type { Core, HubBasics } from './core.ts'

export interface HttpBase {
  /** Undefined for plain HTTP. */
  https: ReturnType<typeof httpTls>
  metrics: Metrics
}

export interface HttpBaseDeps extends Pick<HubBasics, 'config' | 'db'> {
  sys: SysStats
}

/** What the bridges need of the HTTP edge before its routes exist: TLS and the metrics registry. */
export function prepareHttp({ config, db, sys }: HttpBaseDeps): HttpBase {
  // HTTPS when http.tls has a certificate and key (issue 4 point 2); cookies are then Secure.
  const https = httpTls(config.http.tls)
  // One Prometheus registry per hub: services add their own metrics to it.
  const metrics = createMetrics()
  registerProcessMetrics(metrics, { version: VERSION, bun: Bun.version })
  registerHubMetrics(metrics, { db, brokerStats: () => sys.stats() })
  return { https, metrics }
}

export interface HttpDeps
  extends HubBasics,
    HttpBase,
    Pick<Core, 'requireAuth' | 'credentials' | 'consoleChannel'>,
    Pick<BrokerParts, 'broker' | 'telemetry' | 'devices' | 'presence' | 'tcp' | 'tls'>,
    Bridges,
    Automation {}

export interface HttpParts {
  app: App
  server: HttpServer
}

/** The HTTP app (API routers, hooks, ingest, metrics, console) and its server with the `/ws` routes. */
export function composeHttp(deps: HttpDeps): HttpParts {
  const { config, db, bus, log, now, https, metrics, requireAuth, credentials, broker, telemetry } = deps
  const { webhooks, push, slack, firebase, scheduler, rules } = deps
  const app = createApp({
    log,
    maxBodyBytes: config.http.maxBodyBytes,
    corsOrigins: config.http.corsOrigins,
    middleware: [httpMetricsMiddleware(metrics)],
    readiness: [
      { name: 'database', check: () => isWritable(db) },
      { name: 'broker', check: () => broker.running },
    ],
    api: [
      ...createCoreApi({
        db,
        bus,
        broker,
        requireAuth,
        sessionTtlMs: config.http.sessionTtl,
        secureCookie: Boolean(https),
        onPasswordChanged: (username) => {
          if (forgetInitialAdminPassword(config.dataDir, username))
            log.info('the first-start admin password file is removed: admin has a new password')
        },
        mqttPorts: () => ({ mqtt: deps.tcp.port, mqttTls: deps.tls?.port }),
        now,
      }),
      ...webhooks.api,
      ...push.api,
      ...firebase.api,
      { path: '/telemetry', router: createTelemetryRoutes({ telemetry, requireAuth, now }) },
      { path: '/schedules', router: createScheduleRoutes({ scheduler, requireAuth }) },
      { path: '/rules', router: createRuleRoutes({ db, bus, log, rules, requireAuth, now }) },
      { path: '/backup', router: createBackupRoutes({ db, requireAuth, now }) },
      {
        path: '/bridges',
        router: createBridgeRoutes({
          db,
          outbox: webhooks.outbox,
          targets: webhooks.targets,
          push: push.push,
          slack,
          firebase,
          scheduler,
          requireAuth,
          now,
        }),
      },
      ...deps.devices.api,
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
  const ws = config.mqtt.websocket
  const server = createHttpServer({
    app,
    log,
    host: config.http.host,
    port: config.http.port,
    ...(https ? { tls: https } : {}),
    // No WebSocket frame larger than an MQTT packet may be is buffered; the console's own frames
    // are small, and keep a floor so a tiny maxPacketSize does not break the console.
    maxPayloadBytes: Math.max(config.mqtt.maxPacketSize, 64 * 1024),
    websockets: [
      deps.consoleChannel.route,
      ...(ws.enabled ? [createMqttWsRoute({ broker, path: ws.path })] : []),
    ],
  })
  return { app, server }
}

function isWritable(db: Database): boolean {
  db.run(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ['ready-check', String(Date.now())],
  )
  return true
}
