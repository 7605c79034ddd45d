import type { Logger } from '../../log.ts'
import type { Outbox } from '../../outbox/outbox.ts'
import { composeMessage, type SlackAlert } from './blocks.ts'

/** The outbox kind of Slack messages. */
export const SLACK_KIND = 'slack'

/** What the outbox keeps for one Slack message. */
export interface QueuedSlackMessage {
  text: string
  blocks: unknown[]
  /** How many alerts were coalesced into it. */
  alerts: number
}

export type PostResult = 'queued' | 'duplicate' | 'dead'

interface DispatcherOptions {
  log: Logger
  outbox: Pick<Outbox, 'enqueue'>
  minIntervalMs: number
  dedupWindowMs: number
  now: () => number
  /** Why a destination is latched dead, if it is. */
  deadReason(destination: string): string | undefined
  onPost?(destination: string, result: PostResult): void
}

/**
 * Per destination: identical alerts within the dedup window are dropped; the first alert after a
 * quiet spell goes out at once; alerts that arrive while the previous message is still in the
 * outbox, or within `minInterval` of it, wait and leave together as one message.
 */
interface Dispatcher {
  post(destination: string, alert: SlackAlert): PostResult
  /** The outbox finished (delivered or gave up) a message this dispatcher queued. */
  settled(outboxId: number): void
  /** A message reached Slack (or was refused by it) now: the next waits `minInterval`. */
  attempted(destination: string): void
  /** Replaces `slack.minInterval` and `slack.dedupWindow` (a config reload) for the next messages. */
  setPacing(minIntervalMs: number, dedupWindowMs: number): void
  /** Queues whatever is waiting, now (the hub is stopping). */
  flushAll(): Promise<void>
  start(): void
  stop(): void
}

interface Lane {
  pending: SlackAlert[]
  /** Alerts dropped because the lane was full; reported in the next message. */
  overflow: number
  inOutbox: Set<number>
  lastAt: number
  timer: ReturnType<typeof setTimeout> | undefined
}

// A Slack message holds 20 alerts in detail; beyond this many waiting, only a count is kept.
const MAX_PENDING = 200

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  // A copy: setPacing changes it.
  const opts = { ...options }
  const log = opts.log
  const lanes = new Map<string, Lane>()
  const seen = new Map<string, number>()
  const owner = new Map<number, string>()
  const enqueues = new Set<Promise<unknown>>()
  let stopped = false

  const lane = (destination: string): Lane => {
    let l = lanes.get(destination)
    if (!l) {
      l = {
        pending: [],
        overflow: 0,
        inOutbox: new Set(),
        lastAt: Number.NEGATIVE_INFINITY,
        timer: undefined,
      }
      lanes.set(destination, l)
    }
    return l
  }

  const flush = (destination: string) => {
    const l = lane(destination)
    if (l.inOutbox.size || !l.pending.length) return
    const alerts = l.pending
    l.pending = []
    if (l.overflow) {
      alerts.push({
        text: `${l.overflow} more alerts were dropped while Slack was not reachable`,
        severity: 'warning',
        source: 'slack',
        at: opts.now(),
      })
      l.overflow = 0
    }
    const message: QueuedSlackMessage = { ...composeMessage(alerts), alerts: alerts.length }
    // Counts as in the outbox from now, so nothing else leaves before this is delivered.
    const placeholder = -Math.random()
    l.inOutbox.add(placeholder)
    const p = opts.outbox.enqueue({ kind: SLACK_KIND, target: destination, payload: message }).then(
      (id) => {
        l.inOutbox.delete(placeholder)
        // Delivered (and settled) before the id came back: nothing to wait for.
        if (settledEarly.delete(id)) return schedule(destination)
        l.inOutbox.add(id)
        owner.set(id, destination)
      },
      (err) => {
        l.inOutbox.delete(placeholder)
        log.error('could not queue a Slack message', { destination, err })
      },
    )
    enqueues.add(p)
    void p.finally(() => enqueues.delete(p))
  }
  const settledEarly = new Set<number>()

  // Flushes now when the lane may send, else arms a timer for when it may.
  const schedule = (destination: string) => {
    const l = lane(destination)
    if (stopped || l.timer || l.inOutbox.size || !l.pending.length) return
    const wait = l.lastAt + opts.minIntervalMs - opts.now()
    if (wait <= 0) return flush(destination)
    l.timer = setTimeout(() => {
      l.timer = undefined
      // The timer is the gate: an injected clock that stands still must not hold messages forever.
      flush(destination)
    }, wait)
  }

  const forget = (t: number) => {
    if (seen.size < 1000) return
    for (const [k, until] of seen) if (until <= t) seen.delete(k)
  }

  return {
    setPacing(minIntervalMs, dedupWindowMs) {
      opts.minIntervalMs = minIntervalMs
      opts.dedupWindowMs = dedupWindowMs
    },
    post(destination, alert) {
      const dead = opts.deadReason(destination)
      if (dead) {
        opts.onPost?.(destination, 'dead')
        return 'dead'
      }
      const t = opts.now()
      forget(t)
      const key = `${destination}\u0000${alert.key ?? `${alert.title ?? ''}\u0000${alert.text}`}`
      const until = seen.get(key)
      if (until !== undefined && until > t) {
        opts.onPost?.(destination, 'duplicate')
        return 'duplicate'
      }
      if (opts.dedupWindowMs > 0) seen.set(key, t + opts.dedupWindowMs)
      const l = lane(destination)
      if (l.pending.length >= MAX_PENDING) l.overflow++
      else l.pending.push(alert)
      opts.onPost?.(destination, 'queued')
      schedule(destination)
      return 'queued'
    },
    settled(id) {
      const destination = owner.get(id)
      if (destination === undefined) {
        // Only while an enqueue of ours is unanswered can this be one of ours; others are from before a restart.
        if (enqueues.size) settledEarly.add(id)
        return
      }
      owner.delete(id)
      lane(destination).inOutbox.delete(id)
      schedule(destination)
    },
    attempted(destination) {
      lane(destination).lastAt = opts.now()
    },
    async flushAll() {
      for (const [destination, l] of lanes) {
        if (l.timer) clearTimeout(l.timer)
        l.timer = undefined
        // Stopping: what waits is stored, even behind a message not yet delivered.
        l.inOutbox.clear()
        flush(destination)
      }
      await Promise.allSettled([...enqueues])
    },
    start() {
      stopped = false
      for (const destination of lanes.keys()) schedule(destination)
    },
    stop() {
      stopped = true
      for (const l of lanes.values()) if (l.timer) clearTimeout(l.timer)
    },
  }
}
