import type { SchedulerCore } from './scheduler-core.ts'
import {
  deleteSchedule,
  getSchedule,
  listSchedules,
  markInterrupted,
  type ScheduleRow,
  saveSchedule,
} from './store.ts'

// The scheduler's state at start (and after a config reload): the config file's schedules, then
// what the database holds.

/** Writes the config file's schedules into the store, replacing changed ones and removing gone ones. */
export function syncConfigured(core: SchedulerCore, now: number): void {
  const { db, bus, log, timing } = core
  const wanted = new Map(core.configured.map((def) => [def.id!, def]))
  for (const [id, def] of wanted) {
    const existing = getSchedule(db, id)
    if (existing?.origin === 'config' && JSON.stringify(existing.definition) === JSON.stringify(def)) continue
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

/** Loads the stored schedules, closing the runs the last stop interrupted. */
export function restore(core: SchedulerCore, now: number): void {
  const { db, bus, log, load } = core
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
