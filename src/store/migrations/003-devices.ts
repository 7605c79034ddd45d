import type { Migration } from './index.ts'

/** The device registry, its presence columns and per-device ACL rules. */
export const devices: Migration = {
  version: 3,
  name: 'devices: registry, presence, per-device ACL rules',
  up(db) {
    // username is the device id today; a column of its own lets a device be renamed on the wire
    // later without touching every row that references the id.
    db.run(`CREATE TABLE devices (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      username TEXT NOT NULL UNIQUE,
      password_hash TEXT NOT NULL,
      enabled INTEGER NOT NULL DEFAULT 1,
      created_at INTEGER NOT NULL,
      credentials_at INTEGER NOT NULL,
      last_seen INTEGER,
      online INTEGER NOT NULL DEFAULT 0,
      last_client_id TEXT,
      last_address TEXT,
      last_disconnect_reason TEXT
    ) STRICT`)
    db.run(`CREATE TABLE device_acl (
      device_id TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
      pattern TEXT NOT NULL,
      access TEXT NOT NULL CHECK (access IN ('read', 'write', 'readwrite')),
      created_at INTEGER NOT NULL,
      PRIMARY KEY (device_id, pattern)
    ) STRICT`)
  },
}
