import type { Database } from 'bun:sqlite'
import type { ActionResult } from '../actions/runner.ts'
import type { Logger } from '../log.ts'
import {
  createDefinitionRegistry,
  type DefinitionItem,
  type DefinitionRegistry,
} from '../store/definitions.ts'
import { type Schedule, scheduleSchema } from './schema.ts'
import type { RUN_STATUSES } from './view-schema.ts'

type ScheduleOrigin = 'api' | 'config'

/** A schedule as stored: its definition and its run state. */
export interface ScheduleRow {
  id: string
  origin: ScheduleOrigin
  definition: Schedule
  createdAt: number
  updatedAt: number
  /** Scheduled time of the last run fired, caught up or skipped. */
  lastRunAt: number | null
  /** Next scheduled time; null when there is none (disabled, or a one-shot that ran). */
  nextRunAt: number | null
  /** Set when a one-shot fired: it never fires again, across restarts too. */
  doneAt: number | null
}

type RunStatus = (typeof RUN_STATUSES)[number]

/** One entry of a schedule's run history. */
export interface RunRow {
  id: number
  scheduleId: string
  scheduledAt: number
  startedAt: number
  finishedAt: number | null
  status: RunStatus
  late: boolean
  reason: string | null
  results: ActionResult[] | null
}

interface RawSchedule {
  id: string
  origin: ScheduleOrigin
  definition: string
  created_at: number
  updated_at: number
  last_run_at: number | null
  next_run_at: number | null
  done_at: number | null
}

interface RawRun {
  id: number
  schedule_id: string
  scheduled_at: number
  started_at: number
  finished_at: number | null
  status: RunStatus
  late: number
  reason: string | null
  results: string | null
}

type ScheduleState = Omit<ScheduleRow, 'definition'>

const toState = (r: RawSchedule): ScheduleState => ({
  id: r.id,
  origin: r.origin,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  lastRunAt: r.last_run_at,
  nextRunAt: r.next_run_at,
  doneAt: r.done_at,
})

// Parsed again so a definition written by an older build gets today's defaults; a row that no
// longer parses is left out here and reported by the definition registry (createScheduleDefinitions).
const toSchedule = (r: RawSchedule): ScheduleRow | undefined => {
  let json: unknown
  try {
    json = JSON.parse(r.definition)
  } catch {
    return undefined
  }
  const parsed = scheduleSchema.safeParse(json)
  return parsed.success ? { ...toState(r), definition: parsed.data } : undefined
}

const toRun = (r: RawRun): RunRow => ({
  id: r.id,
  scheduleId: r.schedule_id,
  scheduledAt: r.scheduled_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  status: r.status,
  late: r.late === 1,
  reason: r.reason,
  results: r.results === null ? null : (JSON.parse(r.results) as ActionResult[]),
})

const rawSchedules = (db: Database) => db.query('SELECT * FROM schedules ORDER BY id').all() as RawSchedule[]
const rawSchedule = (db: Database, id: string) =>
  (db.query('SELECT * FROM schedules WHERE id = ?').get(id) as RawSchedule | null) ?? undefined

/** A stored row as stored; undefined when there is none or it no longer parses. */
export function getSchedule(db: Database, id: string): ScheduleRow | undefined {
  const r = rawSchedule(db, id)
  return r ? toSchedule(r) : undefined
}

/** A stored row's origin and run state, whether or not its definition still parses. */
export function getScheduleState(db: Database, id: string): ScheduleState | undefined {
  const r = rawSchedule(db, id)
  return r ? toState(r) : undefined
}

/** Every stored row's origin and run state, whether or not its definition still parses. */
export function listScheduleStates(db: Database): ScheduleState[] {
  return rawSchedules(db).map(toState)
}

export interface ScheduleDefinitions {
  /** Config schedules and API rows (origin 'api') on the shared registry: config ids win. */
  registry: DefinitionRegistry<Schedule>
  /**
   * The schedules in effect with their run state, by id: config ones whose row the scheduler
   * wrote (a shadowed API row keeps its definition and lends its state columns), and API ones.
   */
  rows(): ScheduleRow[]
  row(id: string): ScheduleRow | undefined
}

/** The definition side of schedules (docs/definitions.md); run state stays in the same rows. */
export function createScheduleDefinitions(
  db: Database,
  config: readonly Schedule[],
  log?: Logger,
): ScheduleDefinitions {
  const toStored = (r: RawSchedule) => ({
    id: r.id,
    definition: r.definition,
    secret: null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  })
  const registry = createDefinitionRegistry<Schedule>({
    noun: 'schedule',
    config,
    idOf: (s) => s.id!,
    schema: scheduleSchema,
    rows: {
      list: () => rawSchedules(db).flatMap((r) => (r.origin === 'api' ? [toStored(r)] : [])),
      get(id) {
        const r = rawSchedule(db, id)
        return r?.origin === 'api' ? toStored(r) : undefined
      },
    },
    log,
  })
  const effective = (r: RawSchedule, item: DefinitionItem<Schedule> | undefined): ScheduleRow | undefined =>
    item && { ...toState(r), origin: item.source, definition: item.definition }
  return {
    registry,
    // One listing of the registry rather than a lookup (and a query) per row.
    rows() {
      const items = new Map(registry.list().items.map((item) => [item.id, item]))
      return rawSchedules(db).flatMap((r) => effective(r, items.get(r.id)) ?? [])
    },
    row(id) {
      const r = rawSchedule(db, id)
      return r && effective(r, registry.get(id))
    },
  }
}

/** Inserts or replaces a schedule's definition and state (created_at kept on replace). */
export function saveSchedule(db: Database, s: ScheduleRow): void {
  db.run(
    `INSERT INTO schedules (id, origin, definition, created_at, updated_at, last_run_at, next_run_at, done_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET origin = excluded.origin, definition = excluded.definition,
       updated_at = excluded.updated_at, last_run_at = excluded.last_run_at,
       next_run_at = excluded.next_run_at, done_at = excluded.done_at`,
    [
      s.id,
      s.origin,
      JSON.stringify(s.definition),
      s.createdAt,
      s.updatedAt,
      s.lastRunAt,
      s.nextRunAt,
      s.doneAt,
    ],
  )
}

export function deleteSchedule(db: Database, id: string): boolean {
  return db.run('DELETE FROM schedules WHERE id = ?', [id]).changes > 0
}

/** Moves a schedule's run state on (and its definition, when a one-shot disables itself). */
export function setRunState(
  db: Database,
  id: string,
  state: Pick<ScheduleRow, 'lastRunAt' | 'nextRunAt' | 'doneAt'> & {
    definition?: Schedule
    updatedAt?: number
  },
): void {
  db.run(
    `UPDATE schedules SET last_run_at = ?, next_run_at = ?, done_at = ?,
       definition = coalesce(?, definition), updated_at = coalesce(?, updated_at) WHERE id = ?`,
    [
      state.lastRunAt,
      state.nextRunAt,
      state.doneAt,
      state.definition ? JSON.stringify(state.definition) : null,
      state.updatedAt ?? null,
      id,
    ],
  )
}

export function insertRun(
  db: Database,
  run: {
    scheduleId: string
    scheduledAt: number
    startedAt: number
    status: RunStatus
    late: boolean
    reason?: string
    finishedAt?: number
    results?: unknown
  },
): number {
  const r = db.run(
    `INSERT INTO schedule_runs (schedule_id, scheduled_at, started_at, finished_at, status, late, reason, results)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      run.scheduleId,
      run.scheduledAt,
      run.startedAt,
      run.finishedAt ?? null,
      run.status,
      run.late ? 1 : 0,
      run.reason ?? null,
      run.results === undefined ? null : JSON.stringify(run.results),
    ],
  )
  return Number(r.lastInsertRowid)
}

export function finishRun(
  db: Database,
  id: number,
  status: RunStatus,
  finishedAt: number,
  results: ActionResult[],
): void {
  db.run('UPDATE schedule_runs SET status = ?, finished_at = ?, results = ? WHERE id = ?', [
    status,
    finishedAt,
    JSON.stringify(results),
    id,
  ])
}

/** Runs left `running` by a hub that died mid-run: they will never finish. */
export function markInterrupted(db: Database, at: number): number {
  return db.run(
    `UPDATE schedule_runs SET status = 'interrupted', finished_at = ?, reason = 'the hub stopped during the run'
     WHERE status = 'running'`,
    [at],
  ).changes
}

/** The latest runs of a schedule, newest first; `before` pages back by run id. */
export function listRuns(db: Database, scheduleId: string, limit: number, before?: number): RunRow[] {
  const rows = db
    .query(`SELECT * FROM schedule_runs WHERE schedule_id = ? AND id < ? ORDER BY id DESC LIMIT ?`)
    .all(scheduleId, before ?? Number.MAX_SAFE_INTEGER, limit) as RawRun[]
  return rows.map(toRun)
}

/** Keeps the latest `keep` runs of a schedule. */
export function pruneRuns(db: Database, scheduleId: string, keep: number): number {
  return db.run(
    `DELETE FROM schedule_runs WHERE schedule_id = ? AND id <= (
       SELECT id FROM schedule_runs WHERE schedule_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
    [scheduleId, scheduleId, keep],
  ).changes
}
