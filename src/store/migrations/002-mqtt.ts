import type { Migration } from './index.ts'

/** The broker's state (src/broker/persistence): packets as JSON with the payload beside it as a BLOB. */
export const mqtt: Migration = {
  version: 2,
  name: 'mqtt: retained, sessions, queues, wills',
  up(db) {
    db.run(`CREATE TABLE mqtt_retained (
      topic TEXT PRIMARY KEY,
      packet TEXT NOT NULL,
      payload ANY
    ) STRICT`)
    db.run(`CREATE TABLE mqtt_subscriptions (
      client_id TEXT NOT NULL,
      topic TEXT NOT NULL,
      qos INTEGER NOT NULL,
      rh INTEGER,
      rap INTEGER,
      nl INTEGER,
      subscription_identifier INTEGER,
      PRIMARY KEY (client_id, topic)
    ) STRICT`)
    // seq is the queue order; the indexes end in seq (the rowid), so "first in queue" is a seek.
    db.run(`CREATE TABLE mqtt_outgoing (
      seq INTEGER PRIMARY KEY,
      client_id TEXT NOT NULL,
      broker_id TEXT,
      broker_counter INTEGER,
      message_id INTEGER,
      packet TEXT NOT NULL,
      payload ANY
    ) STRICT`)
    db.run('CREATE INDEX mqtt_outgoing_client ON mqtt_outgoing (client_id)')
    db.run('CREATE INDEX mqtt_outgoing_message ON mqtt_outgoing (client_id, message_id)')
    db.run('CREATE INDEX mqtt_outgoing_broker ON mqtt_outgoing (client_id, broker_id, broker_counter)')
    db.run(`CREATE TABLE mqtt_incoming (
      client_id TEXT NOT NULL,
      message_id INTEGER NOT NULL,
      packet TEXT NOT NULL,
      payload ANY,
      routed INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (client_id, message_id)
    ) STRICT`)
    db.run(`CREATE TABLE mqtt_wills (
      client_id TEXT PRIMARY KEY,
      broker_id TEXT,
      packet TEXT NOT NULL,
      payload ANY
    ) STRICT`)
    db.run(`CREATE TABLE mqtt_acked (
      id INTEGER PRIMARY KEY,
      client_id TEXT NOT NULL,
      packet TEXT NOT NULL,
      payload ANY
    ) STRICT`)
  },
}
