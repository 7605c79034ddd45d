import type { Database } from 'bun:sqlite'
import type { Bus } from '../bus/bus.ts'
import { Errors } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { ServiceContext } from '../runtime/service.ts'
import type { Clock } from './clock.ts'
import type { SchedulerDeps, ScheduleView } from './scheduler.ts'
import type { Schedule } from './schema.ts'
import { createScheduleDefinitions, type ScheduleDefinitions, type ScheduleRow } from './store.ts'
import { type Timing, timingOf } from './timing.ts'

export interface Entry {
  row: ScheduleRow
  timing: Timing
}

/** What the scheduler's parts (firing, start, service) share: its schedules in memory and its runs going on. */
export interface SchedulerCore {
  deps: SchedulerDeps
  db: Database
  bus: Bus
  clock: Clock
  log: Logger
  graceMs: number
  historyLimit: number
  entries: Map<string, Entry>
  /** The chain of runs going on per schedule id; kept apart from entries, which an update replaces. */
  running: Map<string, Promise<void>>
  /** Every chain going on, also of schedules removed meanwhile, so stop() waits for all of them. */
  inflight: Set<Promise<void>>
  /** Config schedules win over API rows with their id (docs/definitions.md). */
  defs: ScheduleDefinitions
  /** Shadowed ids and the config definition their row's run state was last computed for. */
  shadowing: Map<string, string>
  started: boolean
  ctx: ServiceContext | undefined
  abort: AbortController
  cancelTimer: (() => void) | undefined
  zoneOf(def: Schedule): string
  timing(row: Pick<ScheduleRow, 'definition' | 'createdAt'>): Timing
  active(row: ScheduleRow): boolean
  view(row: ScheduleRow): ScheduleView
  load(row: ScheduleRow): void
  mustGet(id: string): ScheduleRow
}

export function createSchedulerCore(deps: SchedulerDeps): SchedulerCore {
  const { db } = deps
  const log = deps.log.child('scheduler')
  const zoneOf = (def: Schedule) => def.timezone ?? deps.timezone
  const timing = (row: Pick<ScheduleRow, 'definition' | 'createdAt'>) =>
    timingOf(row.definition, zoneOf(row.definition), row.createdAt)
  const core: SchedulerCore = {
    deps,
    db,
    bus: deps.bus,
    clock: deps.clock,
    log,
    graceMs: deps.graceMs ?? 60_000,
    historyLimit: deps.historyLimit ?? 200,
    entries: new Map(),
    running: new Map(),
    inflight: new Set(),
    defs: createScheduleDefinitions(db, deps.configured ?? [], log),
    shadowing: new Map(),
    started: false,
    ctx: undefined,
    abort: new AbortController(),
    cancelTimer: undefined,
    zoneOf,
    timing,
    active: (row) => row.definition.enabled && row.doneAt === null,
    view: (row) => ({ ...row, timezone: zoneOf(row.definition), running: core.running.has(row.id) }),
    load(row) {
      core.entries.set(row.id, { row, timing: timing(row) })
    },
    mustGet(id) {
      const row = core.defs.row(id)
      if (!row) throw Errors.notFound('schedule')
      return row
    },
  }
  return core
}
