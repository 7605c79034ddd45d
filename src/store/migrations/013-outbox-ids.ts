import type { Migration } from './index.ts'

export const outboxIds: Migration = {
  version: 13,
  name: 'outbox ids are never reused',
  up(db) {
    // A rowid table hands out max(id) + 1, so once the outbox is empty the next entry is 1 again:
    // receivers saw the same X-Hearth-Delivery for different messages, and the event log the same
    // delivery id. AUTOINCREMENT never goes back; SQLite can only add it by rebuilding the table.
    db.run(`CREATE TABLE outbox_new (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      kind TEXT NOT NULL,
      target TEXT NOT NULL,
      key TEXT NOT NULL,
      payload TEXT NOT NULL,
      state TEXT NOT NULL DEFAULT 'pending',
      attempts INTEGER NOT NULL DEFAULT 0,
      created_at INTEGER NOT NULL,
      next_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      last_error TEXT,
      last_status INTEGER,
      dead_reason TEXT,
      UNIQUE (kind, target, key)
    ) STRICT`)
    db.run('INSERT INTO outbox_new SELECT * FROM outbox')
    db.run('DROP TABLE outbox')
    db.run('ALTER TABLE outbox_new RENAME TO outbox')
    db.run('CREATE INDEX outbox_due ON outbox (state, next_at)')
    db.run('CREATE INDEX outbox_target ON outbox (kind, target, state, next_at)')
    // Ids handed out and since deleted are known from the event log's delivery events.
    const seen = db
      .query(
        `SELECT max(coalesce((SELECT max(id) FROM outbox), 0), coalesce((SELECT max(json_extract(detail, '$.id'))
           FROM events WHERE type IN ('delivery.succeeded', 'delivery.failed', 'delivery.dead')), 0)) AS seq`,
      )
      .get() as { seq: number }
    db.run("DELETE FROM sqlite_sequence WHERE name = 'outbox'")
    db.run("INSERT INTO sqlite_sequence (name, seq) VALUES ('outbox', ?)", [seen.seq])
  },
}
