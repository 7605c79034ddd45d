import type { Migration } from './index.ts'

/** The local copy of the Realtime Database mirror, Firestore schedule documents. */
export const firebase: Migration = {
  version: 11,
  name: 'firebase rtdb mirror, firestore schedule documents',
  up(db) {
    // One row: the mirrored tree as JSON (source (a) kept it in realtimedb.json).
    db.run(`CREATE TABLE firebase_rtdb (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      tree TEXT NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT`)
    // One row per document of the schedules collection: which hub schedule it became, from which
    // version (update_time, compared as text), and the hash of the definition made from it, so a
    // changed config re-applies without the document changing.
    db.run(`CREATE TABLE firebase_schedule_docs (
      document TEXT PRIMARY KEY,
      schedule_id TEXT NOT NULL UNIQUE,
      update_time TEXT NOT NULL,
      definition_hash TEXT,
      one_shot INTEGER NOT NULL DEFAULT 0,
      state TEXT NOT NULL CHECK (state IN ('scheduled', 'fired', 'invalid')),
      reason TEXT,
      command TEXT,
      synced_at INTEGER NOT NULL
    ) STRICT`)
  },
}
