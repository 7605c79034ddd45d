import type { Migration } from './index.ts'

/** The push token registry, per-token progress of push batches, paused push targets. */
export const push: Migration = {
  version: 10,
  name: 'push tokens, push batch progress, paused push targets',
  up(db) {
    // id: a short hash of the token, so URLs, events and logs never carry the whole token.
    // A device that is removed takes its phones' tokens with it.
    db.run(`CREATE TABLE push_tokens (
      token TEXT PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      platform TEXT NOT NULL CHECK (platform IN ('ios', 'android', 'web')),
      device_id TEXT REFERENCES devices (id) ON DELETE CASCADE,
      user TEXT,
      labels TEXT NOT NULL DEFAULT '[]',
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      last_success_at INTEGER,
      last_failure_at INTEGER,
      last_error TEXT,
      failures INTEGER NOT NULL DEFAULT 0
    ) STRICT`)
    db.run('CREATE INDEX push_tokens_device ON push_tokens (device_id) WHERE device_id IS NOT NULL')
    db.run('CREATE INDEX push_tokens_user ON push_tokens (user) WHERE user IS NOT NULL')
    // One row per (label, token), so a label target is an index range, not a scan of JSON.
    db.run(`CREATE TABLE push_token_labels (
      label TEXT NOT NULL,
      token TEXT NOT NULL REFERENCES push_tokens (token) ON DELETE CASCADE ON UPDATE CASCADE,
      PRIMARY KEY (label, token)
    ) STRICT, WITHOUT ROWID`)
    db.run('CREATE INDEX push_token_labels_token ON push_token_labels (token)')

    // Tokens of a batch (an outbox entry, by its key) that have a final result, so a retry of the
    // batch sends only the rest; removed once the batch is done.
    db.run(`CREATE TABLE push_progress (
      batch TEXT NOT NULL,
      token TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('sent', 'dead', 'failed', 'skipped')),
      error TEXT,
      at INTEGER NOT NULL,
      PRIMARY KEY (batch, token)
    ) STRICT, WITHOUT ROWID`)
    db.run('CREATE INDEX push_progress_at ON push_progress (at)')

    // A target paused because more than half of a batch came back dead; a person resumes it.
    db.run(`CREATE TABLE push_pauses (
      target TEXT PRIMARY KEY,
      reason TEXT NOT NULL,
      paused_at INTEGER NOT NULL
    ) STRICT`)
  },
}
