import type { Migration } from './index.ts'

/** Inbound hooks, the outbox and outbound webhook targets. */
export const hooksOutbox: Migration = {
  version: 5,
  name: 'hooks, hook deliveries, outbox, webhook targets',
  up(db) {
    // Hooks defined through the API; config-defined hooks live only in the config file.
    db.run(`CREATE TABLE hooks (
      name TEXT PRIMARY KEY,
      definition TEXT NOT NULL,
      secret TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT`)
    db.run(`CREATE TABLE hook_deliveries (
      id INTEGER PRIMARY KEY,
      hook TEXT NOT NULL,
      ts INTEGER NOT NULL,
      delivery_id TEXT,
      content_type TEXT,
      headers TEXT NOT NULL,
      query TEXT NOT NULL,
      body BLOB NOT NULL,
      body_size INTEGER NOT NULL,
      verification TEXT NOT NULL,
      status INTEGER NOT NULL,
      code INTEGER,
      published TEXT,
      replay_of INTEGER
    ) STRICT`)
    db.run(`CREATE INDEX hook_deliveries_hook_id ON hook_deliveries (hook, id)`)
    db.run(`CREATE INDEX hook_deliveries_ts ON hook_deliveries (ts)`)
    // Delivery ids already accepted, to refuse replays.
    db.run(`CREATE TABLE hook_seen (
      hook TEXT NOT NULL,
      delivery_id TEXT NOT NULL,
      ts INTEGER NOT NULL,
      PRIMARY KEY (hook, delivery_id)
    ) STRICT, WITHOUT ROWID`)
    db.run(`CREATE INDEX hook_seen_ts ON hook_seen (ts)`)

    db.run(`CREATE TABLE outbox (
      id INTEGER PRIMARY KEY,
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
    db.run(`CREATE INDEX outbox_due ON outbox (state, next_at)`)
    db.run(`CREATE INDEX outbox_target ON outbox (kind, target, state, next_at)`)

    db.run(`CREATE TABLE webhook_targets (
      name TEXT PRIMARY KEY,
      definition TEXT NOT NULL,
      secret TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT`)
  },
}
