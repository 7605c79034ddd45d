import { brokerPublisher } from '../../src/actions/publish.ts'
import { createActionRunner } from '../../src/actions/runner.ts'
import { createBroker } from '../../src/broker/broker.ts'
import { createBus } from '../../src/bus/bus.ts'
import { registerCoreActions } from '../../src/catalog/core-actions.ts'
import type { Clock } from '../../src/jobs/clock.ts'
import { createScheduler } from '../../src/jobs/scheduler.ts'
import { scheduleSchema } from '../../src/jobs/schema.ts'
import { silentLogger } from '../../src/log.ts'
import type { AnyHubEvent, EventType, HubEvent } from '../../src/protocol.ts'
import { openStore } from '../../src/store/open.ts'

/** A clock that moves only when told; timers fire in time order, each at its own time. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, firing due timers on the way. */
  advance(ms: number): void
  /** Moves time to `at` (forward only), firing due timers on the way. */
  set(at: number): void
  /**
   * Moves time forward by `ms` one timer at a time, awaiting `settle` after each, so a run ends
   * before the next one is due (as it would with real time between them).
   */
  walk(ms: number, settle: () => Promise<void>): Promise<void>
  pending(): number
}

export function manualClock(start: number): ManualClock {
  let t = start
  const timers = new Set<{ at: number; fn: () => void }>()
  const fireNext = (to: number): boolean => {
    const due = [...timers].filter((x) => x.at <= to).sort((a, b) => a.at - b.at)[0]
    if (!due) return false
    timers.delete(due)
    t = Math.max(t, due.at)
    due.fn()
    return true
  }
  const set = (to: number) => {
    while (fireNext(to)) {}
    t = Math.max(t, to)
  }
  return {
    now: () => t,
    setTimer(fn, ms) {
      const timer = { at: t + Math.max(0, ms), fn }
      timers.add(timer)
      return () => timers.delete(timer)
    },
    advance: (ms) => set(t + ms),
    async walk(ms, settle) {
      const to = t + ms
      while (fireNext(to)) await settle()
      t = Math.max(t, to)
    },
    set,
    pending: () => timers.size,
  }
}

export interface SchedulerFixtureOptions {
  dataDir: string
  clock: ManualClock
  timezone?: string
  /** Config-file schedules, parsed here by the config's schema. */
  configured?: Array<Record<string, unknown>>
}

/** The scheduler with its real parts: a store on disk, the bus, the action runner and a broker. */
export async function startScheduler(o: SchedulerFixtureOptions) {
  const { db } = openStore(o.dataDir)
  const log = silentLogger()
  const bus = createBus(log, o.clock.now)
  const events: AnyHubEvent[] = []
  bus.onAny('test', (e) => events.push(e))
  const abort = new AbortController()
  const failures: unknown[] = []
  const ctx = { signal: abort.signal, fail: (err: unknown) => failures.push(err) }
  const broker = createBroker({ log })
  await broker.start(ctx)
  const actions = createActionRunner({ log, bus, now: o.clock.now })
  registerCoreActions(actions, { bus, publish: brokerPublisher(broker), now: o.clock.now })
  const scheduler = createScheduler({
    db,
    bus,
    log,
    actions,
    clock: o.clock,
    timezone: o.timezone ?? 'UTC',
    configured: (o.configured ?? []).map((s) => scheduleSchema.parse(s)),
  })
  await scheduler.start(ctx)
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await scheduler.stop()
    await broker.stop()
    abort.abort()
    db.close()
  }
  return {
    db,
    bus,
    broker,
    actions,
    scheduler,
    failures,
    events,
    /** Events of one type, in order. */
    of<K extends EventType>(type: K): HubEvent<K>[] {
      return events.filter((e) => e.type === type) as unknown as HubEvent<K>[]
    },
    /** Messages of `event` actions, in order. */
    messages(): string[] {
      return this.of('action.event').map((e) => e.detail.message)
    },
    stop,
    [Symbol.asyncDispose]: stop,
  }
}

/** An `event` action whose message names the run: "<label> <scheduled ISO time>". */
export function note(label: string) {
  return { type: 'event' as const, message: `${label} {{scheduledAt}}` }
}

export const iso = (ms: number) => new Date(ms).toISOString()
