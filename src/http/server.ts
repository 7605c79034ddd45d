import type { Server, WebSocketHandler } from 'bun'
import { toErrorBody } from '../errors.ts'
import type { Logger } from '../log.ts'
import { ListenError } from '../runtime/listen-error.ts'
import type { Service } from '../runtime/service.ts'
import type { WsData, WsRoute } from '../runtime/ws-route.ts'
import type { App } from './app.ts'

interface HttpServerOptions {
  app: App
  log: Logger
  host: string
  port: number
  tls?: { cert: string; key: string }
  websockets: WsRoute[]
  /** WebSocket frames above this are refused by Bun. */
  maxPayloadBytes?: number
}

export interface HttpServer extends Service {
  /** The bound port (differs from the configured one when that was 0). */
  readonly port: number
  readonly url: string
}

/** One `Bun.serve` for the Hono app and the WebSocket endpoints. */
export function createHttpServer(opts: HttpServerOptions): HttpServer {
  const log = opts.log.child('http')
  const routes = new Map(opts.websockets.map((r) => [r.path, r]))
  let server: Server<WsData> | undefined

  const websocket: WebSocketHandler<WsData> = {
    maxPayloadLength: opts.maxPayloadBytes ?? 16 * 1024 * 1024,
    idleTimeout: 0,
    sendPings: true,
    open: (ws) => routes.get(ws.data.route)?.handler.open?.(ws, ws.data.state),
    message: (ws, msg) => routes.get(ws.data.route)?.handler.message(ws, ws.data.state, msg),
    close: (ws, code, reason) => routes.get(ws.data.route)?.handler.close?.(ws, ws.data.state, code, reason),
    drain: (ws) => routes.get(ws.data.route)?.handler.drain?.(ws, ws.data.state),
  }

  return {
    name: 'http',
    get port() {
      return server?.port ?? opts.port
    },
    get url() {
      return `${opts.tls ? 'https' : 'http'}://${opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host}:${this.port}`
    },
    start() {
      if (server) return
      try {
        server = Bun.serve<WsData>({
          hostname: opts.host,
          port: opts.port,
          ...(opts.tls ? { tls: opts.tls } : {}),
          // Large bodies are refused by the app's own limit with a JSON error, not by Bun.
          maxRequestBodySize: Number.MAX_SAFE_INTEGER,
          async fetch(req, srv) {
            const route =
              req.headers.get('upgrade')?.toLowerCase() === 'websocket'
                ? routes.get(new URL(req.url).pathname)
                : undefined
            if (!route) return opts.app.fetch(req, { server: srv, ip: srv.requestIP(req) })
            const accepted = await route.accept(req, srv)
            if (accepted instanceof Response) return accepted
            const headers = accepted.protocol ? { 'Sec-WebSocket-Protocol': accepted.protocol } : undefined
            if (
              srv.upgrade(req, {
                data: { route: route.path, state: accepted.state },
                ...(headers ? { headers } : {}),
              })
            ) {
              return undefined
            }
            return new Response('websocket upgrade failed', { status: 400 })
          },
          websocket,
          error(err) {
            log.error('request failed', { err })
            const { status, body } = toErrorBody(err)
            return Response.json(body, { status })
          },
        })
      } catch (err) {
        throw new ListenError('HTTP', opts.host, opts.port, err)
      }
      log.info('listening', { url: this.url })
    },
    async stop() {
      const s = server
      server = undefined
      await s?.stop(true)
    },
  }
}
