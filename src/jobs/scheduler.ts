import type { Database } from 'bun:sqlite'
import type { ActionRunner } from '../actions/runner.ts'
import type { Bus } from '../bus/bus.ts'
import { Errors } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { Service } from '../runtime/service.ts'
import type { InvalidDefinition } from '../store/definitions.ts'
import type { Clock } from './clock.ts'
import { createFiring } from './firing.ts'
import { restore, syncConfigured } from './restore.ts'
import { createSchedulerCore } from './scheduler-core.ts'
import { type Schedule, scheduleSchema } from './schema.ts'
import {
  deleteSchedule,
  getScheduleState,
  listRuns,
  type RunRow,
  type ScheduleRow,
  saveSchedule,
} from './store.ts'

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
  /** Stored schedules the config file shadows, and stored schedules that no longer parse. */
  report(): { shadowed: string[]; invalid: InvalidDefinition[] }
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

/**
 * The scheduler service: schedules live in SQLite, croner computes their times,
 * one timer wakes the service for the earliest due run. A run is claimed in one transaction that
 * records its start and moves the schedule's state on, so a one-shot never fires twice, even when
 * the hub dies mid-run.
 */
export function createScheduler(deps: SchedulerDeps): Scheduler {
  const core = createSchedulerCore(deps)
  const { db, bus, clock, log, entries, inflight, active, view, load, mustGet, timing } = core
  const { arm, tick, runNow, runAtStart } = createFiring(core)

  const scheduler: Scheduler = {
    name: 'scheduler',
    schema: scheduleSchema,

    start(context) {
      if (core.started) return
      core.ctx = context
      core.abort = new AbortController()
      const now = clock.now()
      entries.clear()
      db.transaction(() => {
        syncConfigured(core, now)
        restore(core, now)
      })()
      core.started = true
      // Runs missed while the hub was down are handled now, by each schedule's policy.
      runAtStart(tick().fired)
      arm()
      log.info('scheduler started', { schedules: entries.size })
    },

    async stop() {
      if (!core.started) return
      core.started = false
      core.cancelTimer?.()
      core.cancelTimer = undefined
      core.abort.abort()
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

    list: () => core.defs.rows().map(view),

    report() {
      const { shadowed, invalid } = core.defs.registry.list()
      return { shadowed, invalid }
    },

    get(id) {
      const row = core.defs.row(id)
      return row ? view(row) : undefined
    },

    create(def) {
      const id = def.id ?? `sch_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`
      core.defs.registry.refuseConfigDefined(id)
      if (getScheduleState(db, id)) throw Errors.conflict(`a schedule with id ${id} exists`)
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
      if (core.started) load(row)
      arm()
      bus.emit('schedule.created', { id, origin: 'api' }, { subject: id })
      core.defs.registry.notify(id)
      // A poller that fires at once shows data now, not one interval after it was made.
      if (core.started && definition.kind === 'interval' && definition.runAtStart && active(row))
        runNow(id, 'run at start')
      return view(core.defs.row(id) ?? row)
    },

    update(id, def) {
      core.defs.registry.refuseConfigDefined(id)
      // A stored row that no longer parses may be replaced: its run state is kept, its definition new.
      const old = getScheduleState(db, id)
      if (!old) throw Errors.notFound('schedule')
      if (old.origin === 'config') throw Errors.conflict(`schedule ${id} is defined in the config file`)
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
      if (core.started) load(row)
      arm()
      bus.emit('schedule.updated', { id, origin: 'api' }, { subject: id })
      core.defs.registry.notify(id)
      return view(row)
    },

    remove(id) {
      core.defs.registry.refuseConfigDefined(id)
      const old = getScheduleState(db, id)
      if (!old) throw Errors.notFound('schedule')
      if (old.origin === 'config') throw Errors.conflict(`schedule ${id} is defined in the config file`)
      deleteSchedule(db, id)
      // A run going on finishes; its history row went with the schedule.
      entries.delete(id)
      arm()
      bus.emit('schedule.removed', { id, reason: 'api' }, { subject: id })
      core.defs.registry.notify(id)
    },

    runNow: (id, reason = 'run now') => {
      mustGet(id)
      return runNow(id, reason)
    },
    setConfigured(schedules) {
      const before = new Set(core.defs.registry.config().map((c) => c.id!))
      core.defs.registry.setConfig(schedules)
      if (!core.started) return
      const now = clock.now()
      db.transaction(() => syncConfigured(core, now))()
      for (const id of new Set([...before, ...schedules.map((c) => c.id!)])) {
        const row = core.defs.row(id)
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
