import type { Migration } from './index.ts'

/** Console sessions and API tokens. Secrets are stored only as sha256 hashes. */
export const auth: Migration = {
  version: 4,
  name: 'auth: sessions, api tokens',
  up(db) {
    db.run(`CREATE TABLE sessions (
      token_hash TEXT PRIMARY KEY,
      user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      csrf_token TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL
    ) STRICT`)
    db.run(`CREATE INDEX sessions_user ON sessions (user_id)`)
    db.run(`CREATE INDEX sessions_expires ON sessions (expires_at)`)
    db.run(`CREATE TABLE api_tokens (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
      token_hash TEXT NOT NULL UNIQUE,
      prefix TEXT NOT NULL,
      created_by TEXT,
      created_at INTEGER NOT NULL,
      last_used_at INTEGER
    ) STRICT`)
  },
}
