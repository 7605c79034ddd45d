import type { Server, ServerWebSocket } from 'bun'

/** Data carried by every WebSocket: which route accepted it, plus that route's own state. */
export interface WsData {
  route: string
  state: unknown
}

/**
 * A WebSocket endpoint on the HTTP port (`/mqtt`, `/ws`). `accept` decides at upgrade: it returns
 * the connection's state, or a Response to refuse with.
 */
export interface WsRoute<S = unknown> {
  path: string
  accept(req: Request, server: Server<WsData>): Promise<{ state: S; protocol?: string } | Response>
  handler: {
    open?(ws: ServerWebSocket<WsData>, state: S): void
    message(ws: ServerWebSocket<WsData>, state: S, msg: string | Buffer): void
    close?(ws: ServerWebSocket<WsData>, state: S, code: number, reason: string): void
    drain?(ws: ServerWebSocket<WsData>, state: S): void
  }
}
