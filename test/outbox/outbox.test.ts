import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { createBus } from '../../src/bus/bus.ts'
import { silentLogger } from '../../src/log.ts'
import { parseRetryAfter, retryDelay } from '../../src/outbox/backoff.ts'
import { type OutboxConfig, outboxConfigSchema } from '../../src/outbox/config.ts'
import { createOutbox } from '../../src/outbox/outbox.ts'
import {
  type DeliveryHandler,
  type DeliveryOutcome,
  type OutboxEntry,
  Outcome,
} from '../../src/outbox/types.ts'
import type { HubEvent } from '../../src/protocol.ts'
import { migrate } from '../../src/store/migrate.ts'
import { waitFor } from '../helpers/wait.ts'

/** A real outbox over a migrated in-memory database; back-off in milliseconds so nothing waits long. */
function outboxFixture(config: Partial<OutboxConfig> = {}) {
  const db = new Database(':memory:', { strict: true })
  migrate(db)
  const log = silentLogger()
  const bus = createBus(log)
  const events: HubEvent[] = []
  bus.onAny('test', (e) => events.push(e as HubEvent))
  const outbox = createOutbox({
    db,
    bus,
    log,
    config: outboxConfigSchema.parse({ backoffBase: 5, backoffMax: 40, breakerThreshold: 100, ...config }),
  })
  const failures: unknown[] = []
  return {
    db,
    outbox,
    events,
    failures,
    of: <K extends HubEvent['type']>(type: K) => events.filter((e) => e.type === type) as HubEvent<K>[],
    start: () => outbox.start({ signal: new AbortController().signal, fail: (err) => failures.push(err) }),
    async [Symbol.asyncDispose]() {
      await outbox.stop()
      db.close()
    },
  }
}

/** A handler that answers each attempt from a script (per key), then `ok`; records every attempt. */
function scripted(
  script: (entry: OutboxEntry, attempt: number) => DeliveryOutcome | Promise<DeliveryOutcome>,
) {
  const attempts: Array<{ key: string; target: string; attempt: number; at: number }> = []
  const handler: DeliveryHandler = {
    async deliver(entry) {
      attempts.push({ key: entry.key, target: entry.target, attempt: entry.attempts, at: Date.now() })
      return script(entry, entry.attempts)
    },
  }
  return { handler, attempts }
}

describe('outbox back-off', () => {
  it('doubles from the base, caps at the max, and keeps half of each delay fixed (equal jitter)', () => {
    const policy = { baseMs: 100, maxMs: 1000 }
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelay(n, policy, () => 0))).toEqual([
      50, 100, 200, 400, 500, 500,
    ])
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelay(n, policy, () => 0.999999))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ])
  })

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z')
    expect(parseRetryAfter('120', now)).toBe(120_000)
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter(null, now)).toBeUndefined()
  })
})

describe('outbox', () => {
  it('stores a delivery before enqueue resolves, and a second enqueue of the same key is the same row', async () => {
    await using f = outboxFixture()
    const ids = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        f.outbox.enqueue({ kind: 'test', target: 'a', key: `k${i}`, payload: { i } }),
      ),
    )
    expect(f.db.query('SELECT count(*) AS n FROM outbox').get()).toEqual({ n: 50 })
    expect(await f.outbox.enqueue({ kind: 'test', target: 'a', key: 'k7', payload: { i: 'again' } })).toBe(
      ids[7]!,
    )
    expect(f.outbox.get(ids[7]!)).toMatchObject({ state: 'pending', attempts: 0, payload: { i: 7 } })
  })

  it('delivers, removes the entry and emits delivery.succeeded', async () => {
    await using f = outboxFixture()
    const { handler, attempts } = scripted(() => Outcome.ok(200))
    f.outbox.register('test', handler)
    await f.start()
    const id = await f.outbox.enqueue({ kind: 'test', target: 'a', key: 'one', payload: 1 })
    await waitFor(() => f.of('delivery.succeeded').length === 1)
    expect(f.outbox.get(id)).toBeUndefined()
    expect(attempts.map((a) => a.attempt)).toEqual([1])
    expect(f.of('delivery.succeeded')[0]!.detail).toEqual({
      id,
      kind: 'test',
      target: 'a',
      key: 'one',
      attempts: 1,
    })
  })

  it('retries with growing delays until the target answers, and reports each failure', async () => {
    await using f = outboxFixture({ backoffBase: 20, backoffMax: 1000 })
    const { handler, attempts } = scripted((_e, n) =>
      n < 4 ? Outcome.retryLater('HTTP 503', { httpStatus: 503 }) : Outcome.ok(),
    )
    f.outbox.register('test', handler)
    await f.start()
    await f.outbox.enqueue({ kind: 'test', target: 'a', key: 'r', payload: null })
    await waitFor(() => f.of('delivery.succeeded').length === 1)
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4])
    const failed = f.of('delivery.failed').map((e) => e.detail)
    expect(failed.map((d) => [d.attempt, d.status, d.error])).toEqual([
      [1, 503, 'HTTP 503'],
      [2, 503, 'HTTP 503'],
      [3, 503, 'HTTP 503'],
    ])
    // Equal jitter: each delay lies in [exp/2, exp] with exp = 20, 40, 80 ms.
    failed.forEach((d, i) => {
      const exp = 20 * 2 ** i
      expect(d.retryInMs!).toBeGreaterThanOrEqual(exp / 2)
      expect(d.retryInMs!).toBeLessThanOrEqual(exp)
    })
    for (let i = 1; i < attempts.length; i++) {
      expect(attempts[i]!.at - attempts[i - 1]!.at).toBeGreaterThanOrEqual(failed[i - 1]!.retryInMs! - 2)
    }
  })

  it("honours Retry-After: the next attempt waits that long, and the target's other deliveries wait too", async () => {
    await using f = outboxFixture({ backoffBase: 1 })
    const { handler, attempts } = scripted((e, n) =>
      e.key === 'first' && n === 1
        ? Outcome.retryLater('HTTP 429', { httpStatus: 429, retryAfterMs: 300 })
        : Outcome.ok(),
    )
    f.outbox.register('test', handler)
    await f.start()
    await f.outbox.enqueue({ kind: 'test', target: 'a', key: 'first', payload: null })
    await waitFor(() => attempts.length === 1)
    await f.outbox.enqueue({ kind: 'test', target: 'a', key: 'second', payload: null })
    await waitFor(() => f.of('delivery.succeeded').length === 2)
    expect(f.of('delivery.failed')[0]!.detail.retryInMs).toBe(300)
    const first = attempts[0]!.at
    for (const later of attempts.slice(1)) expect(later.at - first).toBeGreaterThanOrEqual(298)
  })

  it('sends a bad request to the dead letters at once, with the reason', async () => {
    await using f = outboxFixture()
    const { handler, attempts } = scripted(() => Outcome.badRequest('HTTP 400: no such field', 400))
    f.outbox.register('test', handler)
    await f.start()
    const id = await f.outbox.enqueue({ kind: 'test', target: 'a', key: 'bad', payload: null })
    await waitFor(() => f.of('delivery.dead').length === 1)
    expect(attempts).toHaveLength(1)
    expect(f.outbox.get(id)).toMatchObject({
      state: 'dead',
      attempts: 1,
      lastStatus: 400,
      lastError: 'HTTP 400: no such field',
      deadReason: 'bad request: HTTP 400: no such field',
    })
  })

  it('gives up after outbox.maxAttempts', async () => {
    await using f = outboxFixture({ maxAttempts: 3, backoffBase: 1, backoffMax: 2 })
    const { handler, attempts } = scripted(() => Outcome.retryLater('connection refused'))
    f.outbox.register('test', handler)
    await f.start()
    const id = await f.outbox.enqueue({ kind: 'test', target: 'a', key: 'm', payload: null })
    await waitFor(() => f.of('delivery.dead').length === 1)
    expect(attempts).toHaveLength(3)
    expect(f.outbox.get(id)).toMatchObject({
      state: 'dead',
      attempts: 3,
      deadReason: 'gave up after 3 attempts',
    })
    expect(f.of('delivery.failed').at(-1)!.detail.retryInMs).toBeNull()
  })

  it('expires a delivery older than its max age', async () => {
    await using f = outboxFixture({ backoffBase: 50, backoffMax: 50 })
    const { handler } = scripted(() => Outcome.retryLater('timeout'))
    f.outbox.register('test', handler)
    await f.start()
    const id = await f.outbox.enqueue({ kind: 'test', target: 'a', key: 'old', payload: null, maxAgeMs: 120 })
    await waitFor(() => f.of('delivery.dead').length === 1)
    expect(f.outbox.get(id)).toMatchObject({ state: 'dead', deadReason: 'expired' })
  })

  it('keeps at most `concurrency` deliveries in flight per target, and one slow target does not hold up another', async () => {
    await using f = outboxFixture({ concurrency: 2 })
    const gates: Array<() => void> = []
    const inFlight = new Map<string, number>()
    let maxA = 0
    const done: string[] = []
    f.outbox.register('test', {
      async deliver(entry) {
        inFlight.set(entry.target, (inFlight.get(entry.target) ?? 0) + 1)
        maxA = Math.max(maxA, inFlight.get('a') ?? 0)
        if (entry.target === 'a') await new Promise<void>((resolve) => gates.push(resolve))
        inFlight.set(entry.target, inFlight.get(entry.target)! - 1)
        done.push(entry.key)
        return Outcome.ok()
      },
    })
    await f.start()
    for (let i = 0; i < 6; i++)
      void f.outbox.enqueue({ kind: 'test', target: 'a', key: `a${i}`, payload: null })
    for (let i = 0; i < 3; i++)
      void f.outbox.enqueue({ kind: 'test', target: 'b', key: `b${i}`, payload: null })
    await waitFor(() => done.filter((k) => k.startsWith('b')).length === 3 && gates.length === 2)
    expect(inFlight.get('a')).toBe(2)
    while (done.filter((k) => k.startsWith('a')).length < 6) {
      await waitFor(() => gates.length > 0)
      gates.shift()!()
      await Promise.resolve()
    }
    expect(maxA).toBe(2)
  })

  it("opens a target's circuit after consecutive failures, probes once after the cooldown, and closes on success", async () => {
    await using f = outboxFixture({
      breakerThreshold: 3,
      breakerCooldown: 200,
      backoffBase: 1,
      backoffMax: 1,
    })
    let healthy = false
    const { handler, attempts } = scripted(() =>
      healthy ? Outcome.ok() : Outcome.retryLater('HTTP 502', { httpStatus: 502 }),
    )
    f.outbox.register('test', handler)
    await f.start()
    for (let i = 0; i < 5; i++)
      await f.outbox.enqueue({ kind: 'test', target: 'flaky', key: `c${i}`, payload: null })
    await waitFor(() => f.of('outbox.circuit').length === 1)
    const opened = f.of('outbox.circuit')[0]!
    expect(opened.detail).toEqual({ kind: 'test', target: 'flaky', state: 'open' })
    expect(f.outbox.stats().openCircuits).toBe(1)
    healthy = true
    await waitFor(() => f.of('delivery.succeeded').length === 5)
    // Nothing started while the circuit was open; then one probe went alone before the rest.
    expect(attempts.filter((a) => a.at > opened.ts && a.at < opened.ts + 195)).toEqual([])
    const probe = attempts.findIndex((a) => a.at >= opened.ts + 195)
    expect(f.of('delivery.succeeded')[0]!.detail.key).toBe(attempts[probe]!.key)
    expect(f.of('outbox.circuit').map((e) => e.detail.state)).toEqual(['open', 'closed'])
    expect(f.outbox.stats().openCircuits).toBe(0)
  })

  it('lists dead letters, replays one with a fresh budget, and discards another', async () => {
    await using f = outboxFixture()
    let accept = false
    const { handler } = scripted(() => (accept ? Outcome.ok() : Outcome.dead('token unregistered')))
    f.outbox.register('test', handler)
    await f.start()
    const a = await f.outbox.enqueue({ kind: 'test', target: 'a', key: 'd1', payload: 'x' })
    const b = await f.outbox.enqueue({ kind: 'test', target: 'a', key: 'd2', payload: 'y' })
    await waitFor(() => f.of('delivery.dead').length === 2)
    expect(f.outbox.list({ states: ['dead'] }).items.map((e) => [e.id, e.deadReason])).toEqual([
      [a, 'target refused: token unregistered'],
      [b, 'target refused: token unregistered'],
    ])
    expect(f.outbox.list({ states: ['pending', 'sending'] }).items).toEqual([])
    accept = true
    expect(f.outbox.replay(a)).toBe(true)
    expect(f.outbox.replay(a)).toBe(false)
    await waitFor(() => f.of('delivery.succeeded').length === 1)
    expect(f.outbox.discard(b)).toBe(true)
    expect(f.outbox.list().items).toEqual([])
    expect(f.outbox.stats()).toMatchObject({
      succeeded: 1,
      dead: 2,
      byState: { pending: 0, sending: 0, dead: 0 },
    })
  })

  it('waits with deliveries of a kind that has no handler yet', async () => {
    await using f = outboxFixture()
    await f.start()
    const id = await f.outbox.enqueue({ kind: 'later', target: 'a', key: 'w', payload: null })
    expect(f.outbox.get(id)!.state).toBe('pending')
    f.outbox.register('later', scripted(() => Outcome.ok()).handler)
    await waitFor(() => f.outbox.get(id) === undefined)
  })

  it('requeues deliveries a crashed process left in flight, and an attempt cut off by stop is not counted', async () => {
    await using f = outboxFixture()
    f.outbox.register('test', {
      deliver: (_e, signal) =>
        new Promise<DeliveryOutcome>((resolve) =>
          signal.addEventListener('abort', () => resolve(Outcome.retryLater('aborted'))),
        ),
    })
    await f.start()
    const id = await f.outbox.enqueue({ kind: 'test', target: 'a', key: 'cut', payload: null })
    await waitFor(() => f.outbox.get(id)?.state === 'sending')
    await f.outbox.stop()
    expect(f.outbox.get(id)).toMatchObject({ state: 'pending', attempts: 0 })

    f.db.run(`UPDATE outbox SET state = 'sending', attempts = 1 WHERE id = ?`, [id])
    const { handler, attempts } = scripted(() => Outcome.ok())
    f.outbox.register('test', handler)
    await f.start()
    await waitFor(() => f.outbox.get(id) === undefined)
    expect(attempts.map((x) => x.attempt)).toEqual([2])
    expect(f.failures).toEqual([])
  })
})
