import type { Database } from 'bun:sqlite'
import type { Bus } from '../bus/bus.ts'
import type { Logger } from '../log.ts'
import type { Service, ServiceContext } from '../runtime/service.ts'
import type { Page } from '../util/page.ts'
import { retryDelay } from './backoff.ts'
import { type Breaker, type CircuitState, createBreaker } from './breaker.ts'
import type { OutboxConfig } from './config.ts'
import {
  claimDue,
  countByState,
  deleteEntry,
  dueTargets,
  type EntryQuery,
  expireOld,
  getEntry,
  insertEntries,
  listEntries,
  markDead,
  markRetry,
  nextDueAfter,
  resetSending,
  revive,
  unclaim,
} from './store.ts'
import type { DeliveryHandler, DeliveryOutcome, DeliveryState, EnqueueInput, OutboxEntry } from './types.ts'

interface OutboxOptions {
  db: Database
  bus: Bus
  log: Logger
  config: OutboxConfig
  now?: () => number
  /** Jitter source, [0, 1). */
  random?: () => number
}

/** Counters since start, for `/metrics`. */
interface OutboxStats {
  byState: Record<DeliveryState, number>
  succeeded: number
  failedAttempts: number
  dead: number
  openCircuits: number
}

/** The durable delivery queue every bridge uses. A supervised service. */
export interface Outbox extends Service {
  /** The handler for one kind of entry; deliveries of a kind without a handler wait. */
  register(kind: string, handler: DeliveryHandler): void
  /**
   * Stores a delivery. Entries enqueued in the same tick are inserted in one transaction; the
   * promise resolves once it is committed, so a caller acknowledges its cause after that.
   */
  enqueue(input: EnqueueInput): Promise<number>
  list(q?: EntryQuery): Page<OutboxEntry>
  get(id: number): OutboxEntry | undefined
  /** A dead letter back to the queue with a fresh budget; false when there is no such dead letter. */
  replay(id: number): boolean
  /** Every dead letter (of a kind or target) back to the queue; returns how many. */
  replayAll(where?: { kind?: string; target?: string }): number
  /** Drops an entry that is not in flight; false when there is none. */
  discard(id: number): boolean
  stats(): OutboxStats
  /** Targets whose circuit is not closed now (in memory: a restart closes every circuit). */
  circuits(): Array<{ kind: string; target: string; state: CircuitState; failures: number }>
}

const STOP_GRACE_MS = 2000

interface TargetState {
  inFlight: number
  breaker: Breaker
}

interface Waiting {
  input: EnqueueInput & { key: string }
  resolve(id: number): void
  reject(err: unknown): void
}

export function createOutbox(opts: OutboxOptions): Outbox {
  const log = opts.log.child('outbox')
  const { db, bus, config } = opts
  const now = opts.now ?? Date.now
  const random = opts.random ?? Math.random
  const handlers = new Map<string, DeliveryHandler>()
  const targets = new Map<string, TargetState>()
  const inFlight = new Set<Promise<void>>()
  const counters = { succeeded: 0, failedAttempts: 0, dead: 0 }
  let batch: Waiting[] = []
  let flushScheduled = false
  let running = false
  let abort = new AbortController()
  let ctx: ServiceContext | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let timerAt = Number.POSITIVE_INFINITY

  const targetState = (kind: string, target: string): TargetState => {
    const id = `${kind}\u0000${target}`
    let s = targets.get(id)
    if (!s) {
      s = {
        inFlight: 0,
        breaker: createBreaker({ threshold: config.breakerThreshold, cooldownMs: config.breakerCooldown }),
      }
      targets.set(id, s)
    }
    return s
  }

  const flush = () => {
    flushScheduled = false
    const waiting = batch
    batch = []
    if (!waiting.length) return
    const t = now()
    try {
      const ids = insertEntries(
        db,
        waiting.map((w) => ({
          kind: w.input.kind,
          target: w.input.target,
          key: w.input.key,
          payload: w.input.payload ?? null,
          now: t,
          expiresAt: t + (w.input.maxAgeMs ?? config.maxAge),
        })),
      )
      for (const [i, w] of waiting.entries()) w.resolve(ids[i]!)
    } catch (err) {
      log.error('storing deliveries failed', { err, count: waiting.length })
      for (const w of waiting) w.reject(err)
      return
    }
    pump()
  }

  // Whether it failed for good or grew too old, a dead letter is counted and announced the same way.
  const announceDead = (entry: OutboxEntry, reason: string) => {
    counters.dead++
    bus.emit(
      'delivery.dead',
      {
        id: entry.id,
        kind: entry.kind,
        target: entry.target,
        key: entry.key,
        attempts: entry.attempts,
        reason,
      },
      { subject: `${entry.kind}:${entry.target}` },
    )
  }

  const dead = (entry: OutboxEntry, reason: string, outcome?: DeliveryOutcome) => {
    const status = outcome && 'httpStatus' in outcome ? (outcome.httpStatus ?? null) : null
    const error = outcome && 'reason' in outcome ? outcome.reason : null
    markDead(db, entry.id, { reason, error, status, now: now() })
    announceDead(entry, reason)
    log.warn('delivery is a dead letter', { id: entry.id, kind: entry.kind, target: entry.target, reason })
  }

  const settle = (entry: OutboxEntry, state: TargetState, outcome: DeliveryOutcome) => {
    const t = now()
    const subject = `${entry.kind}:${entry.target}`
    if (outcome.status !== 'retry') {
      // Any answer, even a refusal, shows the target is reachable.
      if (state.breaker.success())
        bus.emit('outbox.circuit', { kind: entry.kind, target: entry.target, state: 'closed' }, { subject })
    }
    switch (outcome.status) {
      case 'ok':
        deleteEntry(db, entry.id)
        counters.succeeded++
        bus.emit(
          'delivery.succeeded',
          { id: entry.id, kind: entry.kind, target: entry.target, key: entry.key, attempts: entry.attempts },
          { subject },
        )
        return
      case 'dead':
        return dead(entry, `target refused: ${outcome.reason}`, outcome)
      case 'bad-request':
        return dead(entry, `bad request: ${outcome.reason}`, outcome)
      case 'retry': {
        counters.failedAttempts++
        if (outcome.retryAfterMs !== undefined) state.breaker.pause(t + outcome.retryAfterMs)
        if (state.breaker.failure(t)) {
          log.warn('circuit opened', { kind: entry.kind, target: entry.target })
          bus.emit('outbox.circuit', { kind: entry.kind, target: entry.target, state: 'open' }, { subject })
        }
        const delay = outcome.retryAfterMs ?? retryDelay(entry.attempts, retryPolicy(), random)
        const nextAt = t + delay
        const status = outcome.httpStatus ?? null
        let final: string | undefined
        if (entry.attempts >= config.maxAttempts) final = `gave up after ${entry.attempts} attempts`
        else if (nextAt >= entry.expiresAt) final = 'expired'
        bus.emit(
          'delivery.failed',
          {
            id: entry.id,
            kind: entry.kind,
            target: entry.target,
            attempt: entry.attempts,
            error: outcome.reason,
            status,
            retryInMs: final ? null : delay,
          },
          { subject },
        )
        if (final) return dead(entry, final, outcome)
        markRetry(db, entry.id, { nextAt, error: outcome.reason, status, now: t })
        return
      }
    }
  }

  const dispatch = (entry: OutboxEntry, handler: DeliveryHandler, state: TargetState) => {
    state.inFlight++
    const signal = abort.signal
    const p = (async () => {
      let outcome: DeliveryOutcome
      try {
        outcome = await handler.deliver(entry, signal)
      } catch (err) {
        outcome = { status: 'retry', reason: `handler threw: ${(err as Error)?.message ?? String(err)}` }
      }
      state.inFlight--
      try {
        if (signal.aborted) unclaim(db, entry.id, now())
        else settle(entry, state, outcome)
      } catch (err) {
        fail(err)
      }
    })()
    inFlight.add(p)
    void p.finally(() => {
      inFlight.delete(p)
      pump()
    })
  }

  const retryPolicy = () => ({ baseMs: config.backoffBase, maxMs: config.backoffMax })

  const fail = (err: unknown) => {
    if (!running) return
    log.error('outbox failed', { err })
    ctx?.fail(err)
  }

  const schedule = (at: number) => {
    if (!running || at >= timerAt) return
    if (timer) clearTimeout(timer)
    timerAt = at
    timer = setTimeout(
      () => {
        timer = undefined
        timerAt = Number.POSITIVE_INFINITY
        pump()
      },
      // setTimeout overflows past 2^31-1 ms (~24 days) and would fire at once.
      Math.min(Math.max(at - now(), 0), 2 ** 31 - 1),
    )
  }

  // Starts every delivery that may start now, then sets the timer for the next one due.
  const pump = () => {
    if (!running) return
    try {
      const t = now()
      for (const entry of expireOld(db, t)) announceDead(entry, 'expired')
      let wake = nextDueAfter(db, t) ?? Number.POSITIVE_INFINITY
      for (const due of dueTargets(db, t)) {
        const handler = handlers.get(due.kind)
        if (!handler) continue
        const state = targetState(due.kind, due.target)
        const blocked = state.breaker.blockedUntil(t)
        if (blocked !== undefined) {
          wake = Math.min(wake, blocked)
          continue
        }
        if (!state.breaker.allows(t, state.inFlight)) continue
        const limit =
          state.breaker.state(t) === 'half-open'
            ? 1
            : (handler.concurrency?.(due.target) ?? config.concurrency)
        const free = limit - state.inFlight
        if (free <= 0) continue
        for (const entry of claimDue(db, due.kind, due.target, t, free)) dispatch(entry, handler, state)
      }
      if (wake !== Number.POSITIVE_INFINITY) schedule(wake)
    } catch (err) {
      fail(err)
    }
  }

  return {
    name: 'outbox',
    register(kind, handler) {
      handlers.set(kind, handler)
      pump()
    },
    enqueue(input) {
      const { promise, resolve, reject } = Promise.withResolvers<number>()
      batch.push({ input: { ...input, key: input.key ?? crypto.randomUUID() }, resolve, reject })
      if (!flushScheduled) {
        flushScheduled = true
        // One transaction per tick: everything routed in this tick is committed together.
        setImmediate(flush)
      }
      return promise
    },
    list: (q) => listEntries(db, q),
    get: (id) => getEntry(db, id),
    replay(id) {
      const n = revive(db, { id }, now(), config.maxAge)
      // Next microtask: the caller sees the entry as queued before it is claimed.
      if (n) queueMicrotask(pump)
      return n > 0
    },
    replayAll(where = {}) {
      const n = revive(db, where, now(), config.maxAge)
      if (n) queueMicrotask(pump)
      return n
    },
    discard(id) {
      const entry = getEntry(db, id)
      if (!entry || entry.state === 'sending') return false
      return deleteEntry(db, id)
    },
    stats() {
      let openCircuits = 0
      const t = now()
      for (const s of targets.values()) if (s.breaker.state(t) !== 'closed') openCircuits++
      return { byState: countByState(db), ...counters, openCircuits }
    },
    circuits() {
      const t = now()
      return [...targets.entries()].flatMap(([id, s]) => {
        const [kind = '', target = ''] = id.split('\u0000')
        const state = s.breaker.state(t)
        return state === 'closed' ? [] : [{ kind, target, state, failures: s.breaker.failures }]
      })
    },
    start(serviceCtx) {
      if (running) return
      ctx = serviceCtx
      abort = new AbortController()
      running = true
      // This process owns the data dir: anything marked sending was cut off by a stop or a crash.
      const reset = resetSending(db, now())
      if (reset) log.info('requeued deliveries left in flight', { count: reset })
      pump()
    },
    async stop() {
      if (!running) {
        flush()
        return
      }
      running = false
      if (timer) clearTimeout(timer)
      timer = undefined
      timerAt = Number.POSITIVE_INFINITY
      abort.abort()
      // A handler that ignores the abort must not hold the hub's stop; its entry stays `sending`
      // and is requeued on the next start.
      let graceTimer: ReturnType<typeof setTimeout> | undefined
      const grace = new Promise<void>((resolve) => {
        graceTimer = setTimeout(resolve, STOP_GRACE_MS)
      })
      await Promise.race([Promise.allSettled([...inFlight]), grace])
      clearTimeout(graceTimer)
      // What was enqueued in this last tick is still stored before the database closes.
      flush()
    },
  }
}
