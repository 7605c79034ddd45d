import type { AnyHubEvent, ConsoleActions, ConsoleFrame, ConsoleSnapshot } from '../../src/protocol.ts'

export type LiveStatus = 'connecting' | 'open' | 'closed'

/** A failed request over `/ws`: the reply's code and error. */
export class LiveError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
    this.name = 'LiveError'
  }
}

export interface Live {
  /** Sends `{id, action, body}` and resolves with the reply's data (rejects with a LiveError). */
  request<A extends keyof ConsoleActions>(
    action: A,
    body: ConsoleActions[A]['body'],
  ): Promise<ConsoleActions[A]['result']>
  /** Every event as it arrives; returns the unsubscribe function. */
  onEvent(fn: (event: AnyHubEvent) => void): () => void
  /** Connection status changes, and `dropped` notices (frames lost while the console lagged). */
  onStatus(fn: (status: LiveStatus) => void): () => void
  onDropped(fn: (count: number) => void): () => void
  readonly status: LiveStatus
  /** The last snapshot (recent events and hub info), updated on every (re)connect. */
  readonly snapshot: ConsoleSnapshot
  close(): void
}

/**
 * The console's side of `/ws`: reconnects with back-off, answers requests by id, and tells the
 * app when the session is gone (close 4401) or the user's role changed (close 4403).
 */
export function createLive(opts: {
  url?: string
  onUnauthorized(): void
  /** The user's role changed (close 4403): the console rebuilds itself for the new role. */
  onRoleChanged(): void
  timeoutMs?: number
}): Live {
  const url = opts.url ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`
  const timeoutMs = opts.timeoutMs ?? 15_000
  const events = new Set<(e: AnyHubEvent) => void>()
  const statuses = new Set<(s: LiveStatus) => void>()
  const drops = new Set<(n: number) => void>()
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: number }>()
  let ws: WebSocket | undefined
  let status: LiveStatus = 'closed'
  let snapshot: ConsoleSnapshot = { events: [] }
  let nextId = 1
  let retryMs = 500
  let closed = false
  let retryTimer: number | undefined
  const waiting: Array<() => void> = []

  const setStatus = (s: LiveStatus) => {
    status = s
    for (const fn of statuses) fn(s)
    if (s === 'open') for (const go of waiting.splice(0)) go()
  }

  const connect = () => {
    setStatus('connecting')
    const socket = new WebSocket(url)
    ws = socket
    socket.onmessage = (m) => onFrame(JSON.parse(String(m.data)) as ConsoleFrame)
    socket.onclose = (e) => {
      if (ws !== socket) return
      ws = undefined
      setStatus('closed')
      for (const [id, p] of pending) {
        clearTimeout(p.timer)
        p.reject(new LiveError(50301, 'the live connection closed'))
        pending.delete(id)
      }
      if (e.code === 4401) {
        opts.onUnauthorized()
        return
      }
      if (e.code === 4403) {
        opts.onRoleChanged()
        return
      }
      if (!closed) {
        retryTimer = window.setTimeout(connect, retryMs)
        retryMs = Math.min(retryMs * 2, 10_000)
      }
    }
  }

  const onFrame = (frame: ConsoleFrame) => {
    switch (frame.type) {
      case 'snapshot':
        snapshot = frame.data
        retryMs = 500
        setStatus('open')
        break
      case 'event':
        for (const fn of events) fn(frame.event)
        break
      case 'dropped':
        for (const fn of drops) fn(frame.count)
        break
      case 'reply': {
        const p = pending.get(Number(frame.id))
        if (!p) break
        pending.delete(Number(frame.id))
        clearTimeout(p.timer)
        if (frame.ok) p.resolve(frame.data)
        else p.reject(new LiveError(frame.code, frame.error))
        break
      }
    }
  }

  const sub = <F>(set: Set<F>, fn: F) => {
    set.add(fn)
    return () => {
      set.delete(fn)
    }
  }

  connect()

  return {
    request<A extends keyof ConsoleActions>(action: A, body: ConsoleActions[A]['body']) {
      return new Promise<ConsoleActions[A]['result']>((resolve, reject) => {
        const go = () => {
          const id = nextId++
          const timer = window.setTimeout(() => {
            pending.delete(id)
            reject(new LiveError(50401, `no reply to ${action} within ${timeoutMs / 1000} s`))
          }, timeoutMs)
          pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer })
          ws?.send(JSON.stringify({ id, action, body }))
        }
        if (status === 'open') go()
        else waiting.push(go)
      })
    },
    onEvent: (fn) => sub(events, fn),
    onStatus: (fn) => sub(statuses, fn),
    onDropped: (fn) => sub(drops, fn),
    get status() {
      return status
    },
    get snapshot() {
      return snapshot
    },
    close() {
      closed = true
      clearTimeout(retryTimer)
      ws?.close(1000, 'logout')
      ws = undefined
    },
  }
}
