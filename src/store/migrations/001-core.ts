import type { Migration } from './index.ts'

export const core: Migration = {
  version: 1,
  name: 'core: meta, events, users, sessions',
  up(db) {
    db.run(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT`)
    db.run(`CREATE TABLE events (
      id INTEGER PRIMARY KEY,
      ts INTEGER NOT NULL,
      type TEXT NOT NULL,
      subject TEXT,
      detail TEXT NOT NULL
    ) STRICT`)
    db.run(`CREATE INDEX events_ts ON events (ts)`)
    db.run(`CREATE INDEX events_type_ts ON events (type, ts)`)
    db.run(`CREATE INDEX events_subject_ts ON events (subject, ts)`)
    db.run(`CREATE TABLE users (
      id INTEGER PRIMARY KEY,
      username TEXT NOT NULL UNIQUE,
      password_hash TEXT NOT NULL,
      role TEXT NOT NULL DEFAULT 'admin',
      created_at INTEGER NOT NULL
    ) STRICT`)
  },
}
