import type { Database } from 'bun:sqlite'
import type { ServerWebSocket } from 'bun'
import type { z } from 'zod'
import type { Bus } from '../../bus/bus.ts'
import type { AnyHubEvent } from '../../bus/events.ts'
import { Errors, HubError, invalidFrom, toErrorBody } from '../../errors.ts'
import type { Logger } from '../../log.ts'
import type { WsData, WsRoute } from '../../runtime/ws-route.ts'
import { findSession } from '../../store/sessions.ts'
import type { Principal } from '../api.ts'
import { allows, type Scope, SESSION_COOKIE, scopeOfRole } from '../auth/middleware.ts'
import {
  type ConsoleActions,
  type ConsoleFrame,
  type ConsoleSnapshot,
  consoleRequestSchema,
  type Reply,
} from './frames.ts'

/**
 * A request a console may send over `/ws` (source (c)'s action names plug in here): `B` the
 * parsed body, `R` the reply's data, `I` the body as a console sends it.
 */
interface ConsoleAction<B = unknown, R = unknown, I = unknown> {
  scope: Scope
  body: z.ZodType<B, I>
  run(body: B, principal: Principal): Promise<R> | R
}

/** The body and result of action `N` when it is one of `ConsoleActions`, else anything. */
type Known<N extends string, K extends 'body' | 'result'> = N extends keyof ConsoleActions
  ? ConsoleActions[N][K]
  : unknown

/** Console actions by name, as a module lists them. */
export type ConsoleActionSet = Readonly<Record<string, ConsoleAction>>

/** A module's actions, each held to the body and result `ConsoleActions` gives its name. */
export type TypedConsoleActions<M extends Record<string, { body: unknown; result: unknown }>> = {
  readonly [A in keyof M]: ConsoleAction<unknown, M[A]['result'], M[A]['body']>
}

/** One console action, its body type inferred from its schema (for a module's map). */
export function consoleAction<B, R, I>(action: ConsoleAction<B, R, I>): ConsoleAction<B, R, I> {
  return action
}

interface ConsoleChannelOptions {
  db: Database
  bus: Bus
  log: Logger
  /** What a console receives first on connect (recent events, broker stats, devices …). */
  snapshot(): Promise<ConsoleSnapshot> | ConsoleSnapshot
  /** Frames kept for a console that reads slower than events arrive; older ones are dropped. */
  maxQueuedFrames?: number
  /** Bytes Bun may buffer for one socket before we queue (and eventually drop) instead. */
  maxBufferedBytes?: number
  /**
   * How often every open console's session is looked up again, which catches what no bus event
   * announces: `hearth user passwd/remove` run in another process, and sessions running out.
   */
  sessionCheckMs?: number
  now?: () => number
}

interface ConsoleState {
  principal?: Principal
  /** The session cookie's token, looked up again before every action and on account changes. */
  token?: string
  /** The session's role when the console connected. */
  role?: string
  expiresAt: number
  queue: string[]
  dropped: number
}

/** Close code for a console without a valid session (an HTTP 401, in WebSocket terms). */
const CLOSE_UNAUTHORIZED = 4401
/** Close code for a console whose user's role changed: it reconnects and rebuilds for the new role. */
const CLOSE_ROLE_CHANGED = 4403

/** Events after which the sessions of their subject (a username) are looked up again. */
const ACCOUNT_EVENTS = new Set(['auth.logout', 'user.updated', 'user.removed'])

/**
 * The console's live channel at `/ws`: checks the session at upgrade (close 4401 otherwise),
 * sends a snapshot, then every bus event; answers `{id, action, body}` requests in the
 * `{id, ok, …}` envelope [STYLE 10]. Each console has a bounded queue: a slow browser loses the
 * oldest frames (and is told how many) instead of growing the hub's memory.
 */
export function createConsoleChannel(opts: ConsoleChannelOptions) {
  const log = opts.log.child('console')
  const now = opts.now ?? Date.now
  const maxQueued = opts.maxQueuedFrames ?? 1000
  const maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024
  const sessionCheckMs = opts.sessionCheckMs ?? 15_000
  const actions = new Map<string, ConsoleAction>()
  const sockets = new Set<ServerWebSocket<WsData>>()
  let sweepTimer: ReturnType<typeof setInterval> | undefined

  const stateOf = (ws: ServerWebSocket<WsData>) => ws.data.state as ConsoleState

  const end = (ws: ServerWebSocket<WsData>, code: number, reason: string) => {
    sockets.delete(ws)
    stateOf(ws).principal = undefined
    ws.close(code, reason)
  }

  /**
   * Looks the console's session up again: a logout, a password change, a removed user or an
   * expired session closes it (4401), a changed role too (4403, so the page rebuilds for it).
   * Returns the principal to act as, or undefined when the console was closed.
   */
  const recheck = (ws: ServerWebSocket<WsData>): Principal | undefined => {
    const s = stateOf(ws)
    if (!s.principal || !s.token) return undefined
    const session = findSession(opts.db, s.token, now())
    if (!session) {
      end(ws, CLOSE_UNAUTHORIZED, 'session ended')
      return undefined
    }
    if (session.role !== s.role) {
      end(ws, CLOSE_ROLE_CHANGED, 'role changed')
      return undefined
    }
    s.expiresAt = session.expiresAt
    return s.principal
  }

  const flush = (ws: ServerWebSocket<WsData>) => {
    const s = stateOf(ws)
    if (s.dropped > 0 && ws.getBufferedAmount() < maxBuffered) {
      const notice: ConsoleFrame = { type: 'dropped', count: s.dropped }
      s.dropped = 0
      ws.send(JSON.stringify(notice))
    }
    while (s.queue.length && ws.getBufferedAmount() < maxBuffered) ws.send(s.queue.shift()!)
  }

  const send = (ws: ServerWebSocket<WsData>, frame: ConsoleFrame) => {
    const s = stateOf(ws)
    const text = JSON.stringify(frame)
    if (s.queue.length === 0 && s.dropped === 0 && ws.getBufferedAmount() < maxBuffered) {
      ws.send(text)
      return
    }
    s.queue.push(text)
    if (s.queue.length > maxQueued) {
      s.queue.shift()
      s.dropped++
    }
  }

  const reply = (ws: ServerWebSocket<WsData>, r: Reply) => send(ws, { type: 'reply', ...r })

  const handleRequest = async (ws: ServerWebSocket<WsData>, text: string) => {
    let parsed: z.infer<typeof consoleRequestSchema>
    try {
      const result = consoleRequestSchema.safeParse(JSON.parse(text))
      if (!result.success) {
        const e = invalidFrom(result.error)
        return reply(ws, { id: 0, ok: false, code: e.code, error: e.message })
      }
      parsed = result.data
    } catch {
      const e = Errors.badJson()
      return reply(ws, { id: 0, ok: false, code: e.code, error: e.message })
    }
    const { id } = parsed
    try {
      // The role is read again for every action: a demoted or logged-out console must not act.
      const principal = recheck(ws)
      if (!principal) return
      const action = actions.get(parsed.action)
      if (!action) throw Errors.unknownAction(parsed.action)
      if (!allows(principal.scope, action.scope)) throw Errors.forbidden()
      const body = action.body.safeParse(parsed.body ?? {})
      if (!body.success) throw invalidFrom(body.error)
      reply(ws, { id, ok: true, data: await action.run(body.data, principal) })
    } catch (err) {
      if (!(err instanceof HubError)) log.error('console action failed', { action: parsed.action, err })
      const { body } = toErrorBody(err)
      reply(ws, { id, ok: false, code: body.code, error: body.error })
    }
  }

  const route: WsRoute<ConsoleState> = {
    path: '/ws',
    async accept(req) {
      // Cross-site WebSocket hijacking: a page from another origin must not ride the session cookie.
      // An opaque origin (`null`: sandboxed frames, file: pages) is another origin too.
      const origin = req.headers.get('origin')
      if (origin !== null && hostOf(origin) !== req.headers.get('host')) {
        return Response.json(
          { code: Errors.forbidden().code, error: 'cross-origin console connection' },
          { status: 403 },
        )
      }
      const token = parseCookie(req.headers.get('cookie') ?? '')[SESSION_COOKIE]
      const session = token ? findSession(opts.db, token, now()) : undefined
      const state: ConsoleState = { queue: [], dropped: 0, expiresAt: 0 }
      if (session && token) {
        state.token = token
        state.role = session.role
        state.expiresAt = session.expiresAt
        state.principal = {
          kind: 'user',
          id: session.username,
          scope: scopeOfRole(session.role),
          viaCookie: true,
        }
      }
      return { state }
    },
    handler: {
      open(ws, state) {
        if (!state.principal) {
          ws.close(CLOSE_UNAUTHORIZED, 'login required')
          return
        }
        sockets.add(ws)
        void Promise.resolve(opts.snapshot()).then(
          (data) => {
            // Events may have been queued while the snapshot was being built; it goes first.
            const s = stateOf(ws)
            const pending = s.queue.splice(0)
            send(ws, { type: 'snapshot', data })
            for (const text of pending) s.queue.push(text)
            flush(ws)
          },
          (err) => log.error('console snapshot failed', { err }),
        )
      },
      message(ws, state, msg) {
        if (!state.principal) return
        void handleRequest(ws, typeof msg === 'string' ? msg : msg.toString('utf8'))
      },
      drain: (ws) => flush(ws),
      close: (ws) => {
        sockets.delete(ws)
      },
    },
  }

  function register<B, R, I>(name: string, action: ConsoleAction<B, R, I>) {
    if (actions.has(name)) throw new Error(`console action ${name} is registered twice`)
    actions.set(name, action as unknown as ConsoleAction)
  }

  return {
    route: route as WsRoute,
    /** Registers a request handler by action name; a name of `ConsoleActions` must keep its types. */
    register<N extends string, B>(name: N, action: ConsoleAction<B, Known<N, 'result'>, Known<N, 'body'>>) {
      register(name, action)
    },
    /** Registers a module's actions; a name taken twice throws. */
    registerAll(map: ConsoleActionSet) {
      for (const [name, action] of Object.entries(map)) register(name, action)
    },
    /** Starts streaming bus events to consoles. */
    start() {
      opts.bus.onAny('console', (event: AnyHubEvent) => {
        // A console whose session just ended must not see the events that follow.
        if (ACCOUNT_EVENTS.has(event.type)) {
          for (const ws of sockets) if (stateOf(ws).principal?.id === event.subject) recheck(ws)
        }
        const t = now()
        for (const ws of sockets) {
          if (stateOf(ws).expiresAt <= t && !recheck(ws)) continue
          send(ws, { type: 'event', event })
        }
      })
      sweepTimer = setInterval(() => {
        for (const ws of sockets) recheck(ws)
      }, sessionCheckMs)
    },
    stop() {
      opts.bus.off('console')
      clearInterval(sweepTimer)
      sweepTimer = undefined
      for (const ws of sockets) ws.close(1001, 'hub stopping')
      sockets.clear()
    },
    /** Connected consoles (for stats). */
    count: () => sockets.size,
  }
}

export type ConsoleChannel = ReturnType<typeof createConsoleChannel>

/** The host of an Origin header, or undefined for `null` and anything else that is not a URL. */
function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host
  } catch {
    return undefined
  }
}

function parseCookie(header: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of header.split(';')) {
    const i = part.indexOf('=')
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim())
  }
  return out
}
