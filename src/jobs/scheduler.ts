import type { Database } from 'bun:sqlite'
import type { ActionResult, ActionRunner } from '../actions/runner.ts'
import type { Bus } from '../bus/bus.ts'
import { Errors } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { Service, ServiceContext } from '../runtime/service.ts'
import type { Clock } from './clock.ts'
import { planDue } from './missed.ts'
import { type Schedule, scheduleSchema } from './schema.ts'
import {
  deleteSchedule,
  finishRun,
  getSchedule,
  insertRun,
  listRuns,
  listSchedules,
  markInterrupted,
  pruneRuns,
  type RunRow,
  type ScheduleRow,
  saveSchedule,
  setRunState,
} from './store.ts'
import { type Timing, timingOf } from './timing.ts'

/** A schedule with its resolved zone and whether a run is going on. */
export interface ScheduleView extends ScheduleRow {
  timezone: string
  running: boolean
}

/** What one `tick()` did. */
export interface TickReport {
  fired: Array<{ id: string; at: number; late: boolean }>
  skipped: Array<{ id: string; at: number; reason: 'overlap' | 'missed'; count: number }>
}

export interface Scheduler extends Service {
  /** Claims and starts every run due at `clock.now()`; the timer calls it, tests may too. */
  tick(): TickReport
  /** Resolves when no run is going on. */
  idle(): Promise<void>
  /** The schema a definition passes before `create` and `update` take it. */
  readonly schema: typeof scheduleSchema
  list(): ScheduleView[]
  get(id: string): ScheduleView | undefined
  /** Adds an API schedule (id generated when absent). */
  create(def: Schedule): ScheduleView
  /** Replaces an API schedule's definition; its next run is computed afresh. */
  update(id: string, def: Schedule): ScheduleView
  remove(id: string): void
  /**
   * Runs a schedule's actions now, outside its timing (disabled or done ones too); its next run
   * stays where it was. Refused (409) while a run of it is going on.
   */
  runNow(id: string, reason?: string): RunRow
  /**
   * Replaces the config file's schedules (a config reload): added ones are armed, changed ones
   * start afresh as after an API update, removed ones go; a run going on finishes.
   */
  setConfigured(schedules: readonly Schedule[]): void
  /** The next `count` run times after `from` (default now); none for a disabled or finished schedule. */
  preview(id: string, count: number, from?: number): number[]
  runs(id: string, limit: number, before?: number): RunRow[]
}

export interface SchedulerDeps {
  db: Database
  bus: Bus
  log: Logger
  actions: ActionRunner
  clock: Clock
  /** The config `timezone`: schedules without their own zone use it. */
  timezone: string
  /** Schedules from the config file (validated by the same schema as the API body). */
  configured?: readonly Schedule[]
  /** A run at most this old counts as on time; older due runs were missed. Default 60 s. */
  graceMs?: number
  /** Run-history entries kept per schedule. Default 200. */
  historyLimit?: number
}

interface Entry {
  row: ScheduleRow
  timing: Timing
}

/**
 * The scheduler service (issue 5 point 3): schedules live in SQLite, croner computes their times,
 * one timer wakes the service for the earliest due run. A run is claimed in one transaction that
 * records its start and moves the schedule's state on, so a one-shot never fires twice, even when
 * the hub dies mid-run.
 */
export function createScheduler(deps: SchedulerDeps): Scheduler {
  const { db, bus, clock } = deps
  let configured = deps.configured ?? []
  const log = deps.log.child('scheduler')
  const graceMs = deps.graceMs ?? 60_000
  const historyLimit = deps.historyLimit ?? 200
  const entries = new Map<string, Entry>()
  // The chain of runs going on per schedule id; kept apart from entries, which an update replaces.
  const running = new Map<string, Promise<void>>()
  // Every chain going on, also of schedules removed meanwhile, so stop() waits for all of them.
  const inflight = new Set<Promise<void>>()
  let started = false
  let ctx: ServiceContext | undefined
  let abort = new AbortController()
  let cancelTimer: (() => void) | undefined

  const zoneOf = (def: Schedule) => def.timezone ?? deps.timezone
  const timing = (row: Pick<ScheduleRow, 'definition' | 'createdAt'>) =>
    timingOf(row.definition, zoneOf(row.definition), row.createdAt)
  const active = (row: ScheduleRow) => row.definition.enabled && row.doneAt === null

  const view = (row: ScheduleRow): ScheduleView => ({
    ...row,
    timezone: zoneOf(row.definition),
    running: running.has(row.id),
  })

  const load = (row: ScheduleRow) => {
    entries.set(row.id, { row, timing: timing(row) })
  }

  const mustGet = (id: string): ScheduleRow => {
    const row = getSchedule(db, id)
    if (!row) throw Errors.notFound('schedule')
    return row
  }

  // --- firing ---------------------------------------------------------------------------------

  const arm = () => {
    cancelTimer?.()
    cancelTimer = undefined
    if (!started) return
    let earliest = Number.POSITIVE_INFINITY
    for (const { row } of entries.values()) {
      if (active(row) && row.nextRunAt !== null) earliest = Math.min(earliest, row.nextRunAt)
    }
    if (earliest === Number.POSITIVE_INFINITY) return
    cancelTimer = clock.setTimer(onTimer, earliest - clock.now())
  }

  const onTimer = () => {
    cancelTimer = undefined
    try {
      tick()
    } catch (err) {
      // The database is gone or broken: let the supervisor restart the service.
      ctx?.fail(err)
      return
    }
    arm()
  }

  const skip = (
    entry: Entry,
    at: number,
    reason: 'overlap' | 'missed',
    count: number,
    report: TickReport,
  ) => {
    const id = entry.row.id
    const why =
      reason === 'overlap'
        ? 'the previous run was still going'
        : `missed ${count} run${count === 1 ? '' : 's'} while the hub was down (policy ${entry.row.definition.missed.policy})`
    const now = clock.now()
    insertRun(db, {
      scheduleId: id,
      scheduledAt: at,
      startedAt: now,
      finishedAt: now,
      status: 'skipped',
      late: true,
      reason: why,
    })
    report.skipped.push({ id, at, reason, count })
    log.info('schedule run skipped', { id, reason, count })
    bus.emit('schedule.skipped', { id, scheduledAt: at, reason, count }, { subject: id })
  }

  const tick = (): TickReport => {
    const report: TickReport = { fired: [], skipped: [] }
    if (!started) return report
    const now = clock.now()
    for (const entry of [...entries.values()]) {
      const { row } = entry
      if (!active(row) || row.nextRunAt === null || row.nextRunAt > now) continue
      const plan = planDue(entry.timing, row.nextRunAt - 1, now, row.definition.missed, graceMs)
      const once = row.definition.kind === 'once'
      const nextRunAt = once ? null : entry.timing.next(now)
      if (!plan.run.length && !plan.skipped) {
        // A stored next run the timing no longer produces (say, a zone's rules changed): move on.
        setRunState(db, row.id, { lastRunAt: row.lastRunAt, nextRunAt, doneAt: row.doneAt })
        entry.row = { ...row, nextRunAt }
        continue
      }
      const due = [...plan.run.map((r) => r.at), ...(plan.skipped ? [plan.skipped.latest] : [])]
      const lastDue = Math.max(...due)

      if (running.has(row.id)) {
        // [issue 5] no overlap: a run still going makes this one skip, with an event.
        db.transaction(() => {
          skip(entry, lastDue, 'overlap', plan.run.length + (plan.skipped?.count ?? 0), report)
          setRunState(db, row.id, { lastRunAt: lastDue, nextRunAt, doneAt: row.doneAt })
        })()
        entry.row = { ...row, lastRunAt: lastDue, nextRunAt }
        continue
      }

      const first = plan.run[0]
      let definition: Schedule | undefined
      if (
        first &&
        once &&
        row.definition.kind === 'once' &&
        row.definition.afterRun === 'disable' &&
        row.origin === 'api'
      ) {
        definition = { ...row.definition, enabled: false }
      }
      const doneAt = first && once ? now : row.doneAt
      let firstRunId = 0
      // One transaction: the run's start and the schedule's new state (done, for a one-shot) together.
      db.transaction(() => {
        if (plan.skipped) skip(entry, plan.skipped.latest, 'missed', plan.skipped.count, report)
        if (first) {
          firstRunId = insertRun(db, {
            scheduleId: row.id,
            scheduledAt: first.at,
            startedAt: now,
            status: 'running',
            late: first.late,
          })
        }
        setRunState(db, row.id, {
          lastRunAt: lastDue,
          nextRunAt,
          doneAt,
          ...(definition ? { definition, updatedAt: now } : {}),
        })
      })()
      entry.row = {
        ...row,
        lastRunAt: lastDue,
        nextRunAt,
        doneAt,
        ...(definition ? { definition, updatedAt: now } : {}),
      }
      if (!first) continue
      for (const r of plan.run) report.fired.push({ id: row.id, at: r.at, late: r.late })
      startChain(entry, plan.run, firstRunId)
    }
    return report
  }

  // Starts a chain of runs of one schedule and keeps it where stop() and overlaps can see it.
  const startChain = (entry: Entry, runs: Array<{ at: number; late: boolean }>, firstRunId: number) => {
    const id = entry.row.id
    const chain = runChain(entry, runs, firstRunId).finally(() => {
      inflight.delete(chain)
      if (running.get(id) === chain) running.delete(id)
      afterChain(id)
    })
    running.set(id, chain)
    inflight.add(chain)
  }

  // A run outside the schedule's timing: "Run now", and `runAtStart`.
  const runNow = (id: string, reason: string): RunRow => {
    if (!started) throw Errors.unavailable('the scheduler is not running')
    const entry = entries.get(id)
    if (!entry) throw Errors.notFound('schedule')
    if (running.has(id)) throw Errors.conflict(`schedule ${id} is running; try again when it is done`)
    const now = clock.now()
    const { row } = entry
    let runId = 0
    db.transaction(() => {
      runId = insertRun(db, {
        scheduleId: id,
        scheduledAt: now,
        startedAt: now,
        status: 'running',
        late: false,
        reason,
      })
      setRunState(db, id, { lastRunAt: now, nextRunAt: row.nextRunAt, doneAt: row.doneAt })
    })()
    entry.row = { ...row, lastRunAt: now }
    log.info('schedule run outside its timing', { id, reason })
    startChain(entry, [{ at: now, late: false }], runId)
    return listRuns(db, id, 1)[0]!
  }

  // Interval schedules with `runAtStart` run once now, unless their timing just fired them.
  const runAtStart = (fired: TickReport['fired']) => {
    for (const { row } of entries.values()) {
      if (row.definition.kind !== 'interval' || !row.definition.runAtStart || !active(row)) continue
      if (running.has(row.id) || fired.some((f) => f.id === row.id)) continue
      runNow(row.id, 'run at start')
    }
  }

  // Runs a catch-up chain in order; the first run was claimed by tick, the others claim themselves.
  const runChain = async (entry: Entry, runs: Array<{ at: number; late: boolean }>, firstRunId: number) => {
    for (const [i, r] of runs.entries()) {
      if (abort.signal.aborted) return
      try {
        const runId =
          i === 0
            ? firstRunId
            : insertRun(db, {
                scheduleId: entry.row.id,
                scheduledAt: r.at,
                startedAt: clock.now(),
                status: 'running',
                late: r.late,
              })
        await runOnce(entry, runId, r.at, r.late)
      } catch (err) {
        // Only the store can throw here (the runner never does): log it, the next tick retries nothing.
        log.error('recording a schedule run failed', { id: entry.row.id, err })
      }
    }
  }

  const runOnce = async (entry: Entry, runId: number, at: number, late: boolean) => {
    const { row } = entry
    const startedAt = clock.now()
    const context = {
      source: `schedule:${row.id}`,
      data: {
        schedule: { id: row.id, name: row.definition.name ?? row.id, kind: row.definition.kind },
        scheduledAt: at,
        firedAt: startedAt,
        late,
      },
      signal: abort.signal,
    }
    const results: ActionResult[] = []
    for (const action of row.definition.actions) results.push(await deps.actions.run(action, context))
    const status = results.every((r) => r.ok) ? 'ok' : 'failed'
    const finishedAt = clock.now()
    finishRun(db, runId, status, finishedAt, results)
    pruneRuns(db, row.id, historyLimit)
    bus.emit(
      'schedule.run',
      {
        id: row.id,
        runId,
        scheduledAt: at,
        late,
        status,
        ms: finishedAt - startedAt,
        actions: results.map((r) =>
          r.ok ? { type: r.type, ok: true } : { type: r.type, ok: false, error: r.error },
        ),
      },
      { subject: row.id },
    )
  }

  // A one-shot set to delete itself goes once its run is recorded (history goes with it; the event
  // stays). The current row decides: an update during the run made it a new one-shot.
  const afterChain = (id: string) => {
    const row = entries.get(id)?.row
    if (!started || !row || row.definition.kind !== 'once' || row.doneAt === null) return
    if (row.definition.afterRun !== 'delete' || row.origin !== 'api') return
    try {
      if (deleteSchedule(db, id))
        bus.emit('schedule.removed', { id, reason: 'one-shot done' }, { subject: id })
      entries.delete(id)
    } catch (err) {
      log.error('deleting a finished one-shot failed', { id, err })
    }
  }

  // --- state at start ------------------------------------------------------------------------

  const syncConfigured = (now: number) => {
    const wanted = new Map(configured.map((def) => [def.id!, def]))
    for (const [id, def] of wanted) {
      const existing = getSchedule(db, id)
      if (existing?.origin === 'config' && JSON.stringify(existing.definition) === JSON.stringify(def))
        continue
      const createdAt = existing?.createdAt ?? now
      const row: ScheduleRow = {
        id,
        origin: 'config',
        definition: def,
        createdAt,
        updatedAt: now,
        lastRunAt: existing?.lastRunAt ?? null,
        nextRunAt: def.enabled ? timing({ definition: def, createdAt }).next(now) : null,
        doneAt: null,
      }
      saveSchedule(db, row)
      if (existing?.origin === 'api')
        log.warn('a config schedule replaces the API schedule with its id', { id })
      bus.emit(existing ? 'schedule.updated' : 'schedule.created', { id, origin: 'config' }, { subject: id })
    }
    for (const row of listSchedules(db)) {
      if (row.origin !== 'config' || wanted.has(row.id)) continue
      deleteSchedule(db, row.id)
      bus.emit('schedule.removed', { id: row.id, reason: 'config' }, { subject: row.id })
    }
  }

  const restore = (now: number) => {
    const interrupted = markInterrupted(db, now)
    if (interrupted) log.warn('runs were interrupted by the last stop', { interrupted })
    for (const row of listSchedules(db)) {
      const def = row.definition
      // The hub died between a delete-after-run one-shot's run and its deletion.
      if (def.kind === 'once' && def.afterRun === 'delete' && row.origin === 'api' && row.doneAt !== null) {
        deleteSchedule(db, row.id)
        bus.emit('schedule.removed', { id: row.id, reason: 'one-shot done' }, { subject: row.id })
        continue
      }
      load(row)
    }
  }

  // --- the service and CRUD ---------------------------------------------------------------------

  const scheduler: Scheduler = {
    name: 'scheduler',
    schema: scheduleSchema,

    start(context) {
      if (started) return
      ctx = context
      abort = new AbortController()
      const now = clock.now()
      entries.clear()
      db.transaction(() => {
        syncConfigured(now)
        restore(now)
      })()
      started = true
      // Runs missed while the hub was down are handled now, by each schedule's policy.
      runAtStart(tick().fired)
      arm()
      log.info('scheduler started', { schedules: entries.size })
    },

    async stop() {
      if (!started) return
      started = false
      cancelTimer?.()
      cancelTimer = undefined
      abort.abort()
      await scheduler.idle()
      entries.clear()
    },

    tick() {
      const report = tick()
      arm()
      return report
    },

    async idle() {
      while (inflight.size) await Promise.allSettled([...inflight])
    },

    list: () => listSchedules(db).map(view),

    get(id) {
      const row = getSchedule(db, id)
      return row ? view(row) : undefined
    },

    create(def) {
      const id = def.id ?? `sch_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`
      if (configured.some((c) => c.id === id) || getSchedule(db, id)) {
        throw Errors.conflict(`a schedule with id ${id} exists`)
      }
      const now = clock.now()
      const definition = { ...def, id }
      const t = timing({ definition, createdAt: now })
      const nextRunAt = definition.enabled ? t.next(now) : null
      if (definition.kind === 'once' && nextRunAt === null && definition.enabled) {
        throw Errors.invalid([{ path: 'at', message: 'is in the past' }])
      }
      const row: ScheduleRow = {
        id,
        origin: 'api',
        definition,
        createdAt: now,
        updatedAt: now,
        lastRunAt: null,
        nextRunAt,
        doneAt: null,
      }
      saveSchedule(db, row)
      if (started) load(row)
      arm()
      bus.emit('schedule.created', { id, origin: 'api' }, { subject: id })
      // A poller that fires at once shows data now, not one interval after it was made.
      if (started && definition.kind === 'interval' && definition.runAtStart && active(row))
        runNow(id, 'run at start')
      return view(getSchedule(db, id) ?? row)
    },

    update(id, def) {
      const old = mustGet(id)
      if (old.origin === 'config') throw Errors.conflict('this schedule is defined in the config file')
      if (def.id !== undefined && def.id !== id)
        throw Errors.invalid([{ path: 'id', message: 'does not match the URL' }])
      const now = clock.now()
      const definition = { ...def, id }
      const t = timing({ definition, createdAt: old.createdAt })
      const nextRunAt = definition.enabled ? t.next(now) : null
      if (definition.kind === 'once' && nextRunAt === null && definition.enabled) {
        throw Errors.invalid([{ path: 'at', message: 'is in the past' }])
      }
      // A changed definition starts afresh: its next run from now, a one-shot not done.
      const row: ScheduleRow = { ...old, definition, updatedAt: now, nextRunAt, doneAt: null }
      saveSchedule(db, row)
      if (started) load(row)
      arm()
      bus.emit('schedule.updated', { id, origin: 'api' }, { subject: id })
      return view(row)
    },

    remove(id) {
      const old = mustGet(id)
      if (old.origin === 'config') throw Errors.conflict('this schedule is defined in the config file')
      deleteSchedule(db, id)
      // A run going on finishes; its history row went with the schedule.
      entries.delete(id)
      arm()
      bus.emit('schedule.removed', { id, reason: 'api' }, { subject: id })
    },

    runNow: (id, reason = 'run now') => {
      mustGet(id)
      return runNow(id, reason)
    },
    setConfigured(schedules) {
      const before = new Set(configured.map((c) => c.id!))
      configured = schedules
      if (!started) return
      const now = clock.now()
      db.transaction(() => syncConfigured(now))()
      for (const id of new Set([...before, ...schedules.map((c) => c.id!)])) {
        const row = getSchedule(db, id)
        if (row) load(row)
        else entries.delete(id)
      }
      arm()
    },

    preview(id, count, from) {
      const row = mustGet(id)
      if (!active(row)) return []
      const t = timing(row)
      const out: number[] = []
      for (let at = t.next(from ?? clock.now()); at !== null && out.length < count; at = t.next(at))
        out.push(at)
      return out
    },

    runs(id, limit, before) {
      mustGet(id)
      return listRuns(db, id, limit, before)
    },
  }
  return scheduler
}
