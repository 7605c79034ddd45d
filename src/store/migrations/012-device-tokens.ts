import type { Migration } from './index.ts'

export const deviceTokens: Migration = {
  version: 12,
  name: 'API tokens scoped to one device (ingest)',
  up(db) {
    // A device-scoped token may only post that device's readings; it goes with its device.
    db.run('ALTER TABLE api_tokens ADD COLUMN device TEXT REFERENCES devices (id) ON DELETE CASCADE')
    db.run('CREATE INDEX api_tokens_device ON api_tokens (device)')
  },
}
