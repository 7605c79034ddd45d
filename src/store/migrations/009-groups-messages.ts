import type { Migration } from './index.ts'

/** Device groups, downstream messages with a status per recipient, desired vs reported state. */
export const groupsMessages: Migration = {
  version: 9,
  name: 'device groups, messages and their recipients, device state',
  up(db) {
    db.run(`CREATE TABLE device_groups (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      description TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT`)
    db.run(`CREATE TABLE device_group_members (
      group_id TEXT NOT NULL REFERENCES device_groups (id) ON DELETE CASCADE,
      device_id TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
      added_at INTEGER NOT NULL,
      PRIMARY KEY (group_id, device_id)
    ) STRICT, WITHOUT ROWID`)
    // The ACL asks "which groups is this device in" at every client's rule refresh.
    db.run('CREATE INDEX device_group_members_device ON device_group_members (device_id)')

    // payload: the exact bytes published to each inbox, so a resend after a reconnect is identical.
    db.run(`CREATE TABLE messages (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL CHECK (kind IN ('unicast', 'multicast', 'broadcast', 'group')),
      group_id TEXT,
      payload TEXT NOT NULL,
      push TEXT,
      failed_devices TEXT NOT NULL DEFAULT '[]',
      created_by TEXT,
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL
    ) STRICT`)
    db.run('CREATE INDEX messages_expires ON messages (expires_at)')
    db.run('CREATE INDEX messages_created ON messages (created_at)')
    // device_id has no foreign key: a removed device's delivery history stays readable.
    db.run(`CREATE TABLE message_recipients (
      message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
      device_id TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('queued', 'delivered', 'expired', 'failed')),
      sent_at INTEGER,
      attempts INTEGER NOT NULL DEFAULT 0,
      delivered_at INTEGER,
      error TEXT,
      push_status TEXT CHECK (push_status IN ('sent', 'failed')),
      push_error TEXT,
      PRIMARY KEY (message_id, device_id)
    ) STRICT, WITHOUT ROWID`)
    // What a device that comes back is still owed.
    db.run('CREATE INDEX message_recipients_device ON message_recipients (device_id, status)')

    db.run(`CREATE TABLE device_state (
      device_id TEXT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
      reported TEXT NOT NULL DEFAULT '{}',
      reported_version INTEGER NOT NULL DEFAULT 0,
      reported_at INTEGER,
      desired TEXT NOT NULL DEFAULT '{}',
      desired_version INTEGER NOT NULL DEFAULT 0,
      desired_at INTEGER,
      pending INTEGER NOT NULL DEFAULT 0,
      sent_at INTEGER,
      deadline INTEGER,
      timed_out_at INTEGER
    ) STRICT`)
    db.run('CREATE INDEX device_state_deadline ON device_state (deadline) WHERE pending = 1')
  },
}
