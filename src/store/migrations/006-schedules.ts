import type { Migration } from './index.ts'

/** Schedules and their run history. */
export const schedules: Migration = {
  version: 6,
  name: 'schedules, schedule runs',
  up(db) {
    // Config-file schedules are mirrored here too (origin 'config') so their run state survives restarts.
    // last_run_at/next_run_at are scheduled times: after downtime they tell which runs were missed.
    db.run(`CREATE TABLE schedules (
      id TEXT PRIMARY KEY,
      origin TEXT NOT NULL CHECK (origin IN ('api', 'config')),
      definition TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      last_run_at INTEGER,
      next_run_at INTEGER,
      done_at INTEGER
    ) STRICT`)
    db.run(`CREATE TABLE schedule_runs (
      id INTEGER PRIMARY KEY,
      schedule_id TEXT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
      scheduled_at INTEGER NOT NULL,
      started_at INTEGER NOT NULL,
      finished_at INTEGER,
      status TEXT NOT NULL,
      late INTEGER NOT NULL DEFAULT 0,
      reason TEXT,
      results TEXT
    ) STRICT`)
    db.run(`CREATE INDEX schedule_runs_schedule_id ON schedule_runs (schedule_id, id)`)
  },
}
