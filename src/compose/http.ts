import type { Database } from 'bun:sqlite'
import type { Broker } from '../broker/broker.ts'
import type { Presence } from '../broker/presence.ts'
import type { TcpListener, TlsListener } from '../broker/tcp-listener.ts'
import { createMqttWsRoute } from '../broker/ws-listener.ts'
import { type App, createApp } from '../http/app.ts'
import { type ConsoleChannel, createConsoleChannel } from '../http/console/channel.ts'
import { consoleHubInfo } from '../http/console/hub-info.ts'
import { createConsoleStatic } from '../http/console/static.ts'
import { createMetricsRoute, httpMetricsMiddleware } from '../http/metrics.ts'
import { createBackupRoutes } from '../http/routes/backup.ts'
import { createCoreApi } from '../http/routes/core-api.ts'
import { createHttpServer, type HttpServer } from '../http/server.ts'
import { httpTls } from '../http/tls.ts'
import { queryEvents } from '../store/events.ts'
import { forgetInitialAdminPassword } from '../store/initial-admin.ts'
import type { Shared } from './core.ts'
import { collect, type HubBasics, type HubModule } from './module.ts'

interface HttpDeps extends HubBasics, Shared {
  broker: Broker
  presence: Pick<Presence, 'clientsOf'>
  tcp: TcpListener
  tls: TlsListener | undefined
  /** The modules whose API routers, routes and console actions this mounts, in order. */
  modules: readonly HubModule[]
}

export interface HttpModule extends HubModule {
  app: App
  server: HttpServer
  /** The console's live channel at `/ws`, with every module's console actions registered. */
  consoleChannel: ConsoleChannel
}

/**
 * The HTTP edge: the app (the core API and every module's routers, hooks, ingest, metrics, the
 * console) and its server with the `/ws` routes; the console channel streams bus events.
 */
export function composeHttp(deps: HttpDeps): HttpModule {
  const { config, db, bus, log, now, metrics, requireAuth, broker, modules } = deps
  // HTTPS when http.tls has a certificate and key; cookies are then Secure.
  const https = httpTls(config.http.tls)
  const mqttPorts = () => ({ mqtt: deps.tcp.port, mqttTls: deps.tls?.port })
  const consoleChannel = createConsoleChannel({
    db,
    bus,
    log,
    now,
    // The console's first frame: recent events, and the ports and topics its snippets show.
    snapshot: () => ({
      events: queryEvents(db, { limit: 100 }).items,
      hub: consoleHubInfo(config, mqttPorts()),
    }),
  })
  for (const m of modules) if (m.consoleActions) consoleChannel.registerAll(m.consoleActions)
  const app = createApp({
    log,
    maxBodyBytes: config.http.maxBodyBytes,
    corsOrigins: config.http.corsOrigins,
    middleware: [httpMetricsMiddleware(metrics)],
    readiness: [
      { name: 'database', check: () => isWritable(db, now) },
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
        mqttPorts,
        now,
      }),
      { path: '/backup', router: createBackupRoutes({ db, requireAuth, now }) },
      ...collect(modules, 'api'),
    ],
    routes: [
      ...collect(modules, 'routes'),
      {
        path: '/metrics',
        router: createMetricsRoute({ metrics, requireAuth, public: config.http.metricsPublic }),
      },
      // The console: last, so every route above wins over its `/`.
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
    websockets: [consoleChannel.route, ...(ws.enabled ? [createMqttWsRoute({ broker, path: ws.path })] : [])],
  })
  const consoleService = { name: 'console', start: consoleChannel.start, stop: consoleChannel.stop }
  return { name: 'http', app, server, consoleChannel, services: [consoleService, server] }
}

function isWritable(db: Database, now: () => number): boolean {
  db.run(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ['ready-check', String(now())],
  )
  return true
}
