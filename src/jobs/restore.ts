import type { SchedulerCore } from './scheduler-core.ts'
import type { Schedule } from './schema.ts'
import {
  deleteSchedule,
  getSchedule,
  getScheduleState,
  listScheduleStates,
  markInterrupted,
  type ScheduleRow,
  saveSchedule,
  setRunState,
} from './store.ts'

// The scheduler's state at start (and after a config reload): the config file's schedules, then
// what the database holds.

/** Writes the config file's schedules into the store, replacing changed ones and removing gone ones. */
export function syncConfigured(core: SchedulerCore, now: number): void {
  const { db, bus, timing } = core
  const wanted = new Map(core.defs.registry.config().map((def) => [def.id!, def]))
  for (const [id, def] of wanted) {
    const state = getScheduleState(db, id)
    if (state?.origin === 'api') {
      shadow(core, id, def, state, now)
      continue
    }
    const existing = getSchedule(db, id)
    if (existing?.origin === 'config' && JSON.stringify(existing.definition) === JSON.stringify(def)) continue
    const createdAt = state?.createdAt ?? now
    const row: ScheduleRow = {
      id,
      origin: 'config',
      definition: def,
      createdAt,
      updatedAt: now,
      lastRunAt: state?.lastRunAt ?? null,
      nextRunAt: def.enabled ? timing({ definition: def, createdAt }).next(now) : null,
      doneAt: null,
    }
    saveSchedule(db, row)
    bus.emit(state ? 'schedule.updated' : 'schedule.created', { id, origin: 'config' }, { subject: id })
  }
  for (const row of listScheduleStates(db)) {
    if (wanted.has(row.id)) continue
    if (row.origin === 'api' && core.shadowing.has(row.id)) unshadow(core, row.id, now)
    if (row.origin !== 'config') continue
    deleteSchedule(db, row.id)
    bus.emit('schedule.removed', { id: row.id, reason: 'config' }, { subject: row.id })
  }
}

// A config schedule with an API row's id: the row keeps its definition (listed as shadowed, in
// use again once the config file drops the id) and lends its run-state columns to the config one.
function shadow(
  core: SchedulerCore,
  id: string,
  def: Schedule,
  state: { createdAt: number; lastRunAt: number | null },
  now: number,
) {
  const json = JSON.stringify(def)
  if (core.shadowing.get(id) === json) return
  if (!core.shadowing.has(id))
    core.log.warn('the config file defines an API schedule id; the config schedule wins', { id })
  core.shadowing.set(id, json)
  const nextRunAt = def.enabled
    ? core.timing({ definition: def, createdAt: state.createdAt }).next(now)
    : null
  setRunState(core.db, id, { lastRunAt: state.lastRunAt, nextRunAt, doneAt: null })
  core.bus.emit('schedule.updated', { id, origin: 'config' }, { subject: id })
}

// The config file dropped a shadowed id: the API schedule starts afresh, as after an API update.
function unshadow(core: SchedulerCore, id: string, now: number) {
  core.shadowing.delete(id)
  const row = core.defs.row(id)
  if (!row) return
  const nextRunAt = row.definition.enabled ? core.timing(row).next(now) : null
  setRunState(core.db, id, { lastRunAt: row.lastRunAt, nextRunAt, doneAt: null })
  core.bus.emit('schedule.updated', { id, origin: 'api' }, { subject: id })
}

/** Loads the stored schedules, closing the runs the last stop interrupted. */
export function restore(core: SchedulerCore, now: number): void {
  const { db, bus, log, load } = core
  const interrupted = markInterrupted(db, now)
  if (interrupted) log.warn('runs were interrupted by the last stop', { interrupted })
  for (const row of core.defs.rows()) {
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
