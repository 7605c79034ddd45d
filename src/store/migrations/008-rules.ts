import type { Migration } from './index.ts'

export const rules: Migration = {
  version: 8,
  name: 'rules defined through the API',
  up(db) {
    db.run(`CREATE TABLE rules (
      id TEXT PRIMARY KEY,
      definition TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT`)
  },
}
