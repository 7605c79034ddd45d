import type { Database } from 'bun:sqlite'
import type { Migration } from './index.ts'

// A message's columns, the same in retained messages, queues and wills: the payload as a BLOB,
// the MQTT 5 properties as JSON (NULL when there are none, as for every 3.1.1 message) with the
// correlation data beside them as bytes, and the expiry as an absolute epoch-ms time so a restart
// does not give a message its whole interval again [MQTT-3.3.2-5].
const MESSAGE = `topic TEXT NOT NULL,
      payload BLOB NOT NULL,
      qos INTEGER NOT NULL,
      retain INTEGER NOT NULL,
      properties TEXT,
      correlation_data BLOB,
      expires_at INTEGER`

/**
 * The broker's own store (src/store/mqtt) of the MQTT engine's state: sessions own their
 * subscriptions, queue, incoming QoS 2 ids and will, so deleting a session deletes all of it. The
 * Aedes-era tables of migration 002 stay until the engine replaces Aedes; their rows are carried
 * over by a later step (016-aedes-upgrade.ts).
 */
export const brokerStore: Migration = {
  version: 15,
  name: 'broker store: sessions, subscriptions, queues, incoming QoS 2, wills, retained',
  up(db: Database) {
    db.run(`CREATE TABLE broker_sessions (
      client_id TEXT PRIMARY KEY,
      owner TEXT,
      protocol_level INTEGER NOT NULL,
      expiry_interval INTEGER NOT NULL,
      disconnected_at INTEGER
    ) STRICT`)
    // The rowid keeps subscription order, so a restored session lists its filters as they came.
    db.run(`CREATE TABLE broker_subscriptions (
      client_id TEXT NOT NULL REFERENCES broker_sessions (client_id) ON DELETE CASCADE,
      filter TEXT NOT NULL,
      qos INTEGER NOT NULL,
      no_local INTEGER,
      retain_as_published INTEGER,
      retain_handling INTEGER,
      identifier INTEGER,
      PRIMARY KEY (client_id, filter)
    ) STRICT`)
    // A rowid table, not WITHOUT ROWID: payloads can be large, and rows are reached through the
    // (client_id, seq) key's index. state: NULL not given, 0 queued, 1 sent, 2 released.
    db.run(`CREATE TABLE broker_queue (
      client_id TEXT NOT NULL REFERENCES broker_sessions (client_id) ON DELETE CASCADE,
      seq INTEGER NOT NULL,
      ${MESSAGE},
      subscription_ids TEXT,
      packet_id INTEGER,
      state INTEGER,
      PRIMARY KEY (client_id, seq)
    ) STRICT`)
    db.run(`CREATE TABLE broker_incoming (
      client_id TEXT NOT NULL REFERENCES broker_sessions (client_id) ON DELETE CASCADE,
      packet_id INTEGER NOT NULL,
      PRIMARY KEY (client_id, packet_id)
    ) STRICT, WITHOUT ROWID`)
    db.run(`CREATE TABLE broker_wills (
      client_id TEXT PRIMARY KEY REFERENCES broker_sessions (client_id) ON DELETE CASCADE,
      ${MESSAGE},
      delay_interval INTEGER NOT NULL
    ) STRICT`)
    db.run(`CREATE TABLE broker_retained (
      ${MESSAGE.replace('topic TEXT NOT NULL', 'topic TEXT PRIMARY KEY')}
    ) STRICT`)
  },
}
