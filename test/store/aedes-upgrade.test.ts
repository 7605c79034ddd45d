import type { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { silentLogger } from '../../src/log.ts'
import type { QueuedMessage, StoredSession } from '../../src/mqtt/types.ts'
import { migrate, schemaVersion } from '../../src/store/migrate.ts'
import {
  aedesUpgrade,
  dropAedesTables,
  migrateAedesTables,
} from '../../src/store/migrations/016-aedes-upgrade.ts'
import { MIGRATIONS } from '../../src/store/migrations/index.ts'
import { createSqliteEngineStore } from '../../src/store/mqtt/sqlite-store.ts'
import { DB_FILE, openDatabase, openStore } from '../../src/store/open.ts'
import fixture from '../fixtures/hearth-0.1.0.json'
import { tempDir } from '../helpers/hub.ts'

const FIXTURE = join(import.meta.dir, '../fixtures/hearth-0.1.0.db')
const T = Date.UTC(2026, 0, 1)
const log = silentLogger()

/** The repo's migrations before the step that carries the Aedes-era tables over. */
const BEFORE = MIGRATIONS.filter((m) => m.version < aedesUpgrade.version)

/** A copy of the 0.1.0 database with every migration but the upgrade step applied. */
function openFixture(dir: string): Database {
  copyFileSync(FIXTURE, join(dir, DB_FILE))
  const db = openDatabase(join(dir, DB_FILE))
  migrate(db, BEFORE)
  return db
}

const tableNames = (db: Database) =>
  (db.query("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
    (r) => r.name,
  )

/** A queue entry as the fixture's JSON describes it. */
function expectedItem(q: (typeof fixture.queued)[number]): Omit<QueuedMessage, 'seq'> {
  if (q.state === 'released') {
    return {
      message: { topic: '', payload: Buffer.alloc(0), qos: 2, retain: false },
      packetId: q.packetId as number,
      state: 'released',
    }
  }
  const payload =
    'encoding' in q ? Buffer.from(q.payload as string, 'base64') : Buffer.from(q.payload as string)
  return {
    message: { topic: q.topic as string, payload, qos: q.qos as 1 | 2, retain: false },
    ...(q.state === 'sent'
      ? { packetId: q.packetId as number, state: 'sent' as const }
      : { state: 'queued' as const }),
  }
}

describe('the upgrade of a 0.1.0 database (Aedes-era broker tables)', () => {
  it('carries retained messages, persistent sessions, their subscriptions and queues, and incoming QoS 2 ids over', () => {
    using dir = tempDir()
    const db = openFixture(dir.path)
    try {
      const report = migrateAedesTables(db, { now: () => T })
      const state = createSqliteEngineStore({ db, log }).load()

      const retained = Object.fromEntries(state.retained.map((m) => [m.topic, m]))
      expect(Object.keys(retained).sort()).toEqual(fixture.retained.topics)
      for (const [topic, want] of Object.entries(fixture.retained.ours)) {
        const payload =
          'payloadBase64' in want ? Buffer.from(want.payloadBase64, 'base64') : Buffer.from(want.payload)
        expect(retained[topic]).toEqual({ topic, payload, qos: want.qos as 0 | 1, retain: true })
      }
      for (const topic of fixture.retained.cleared) expect(retained[topic]).toBeUndefined()

      const sessions = new Map(state.sessions.map((s) => [s.clientId, s]))
      expect([...sessions.keys()].sort()).toEqual(Object.keys(fixture.sessions).sort())
      for (const [clientId, want] of Object.entries(fixture.sessions)) {
        const got = sessions.get(clientId) as StoredSession
        const queue = fixture.queued.filter((q) => q.clientId === clientId).map(expectedItem)
        const incoming = fixture.incomingQos2.filter((i) => i.clientId === clientId).map((i) => i.packetId)
        expect({ ...got, queue: got.queue.map(({ seq: _, ...rest }) => rest) }).toEqual({
          clientId,
          owner: undefined,
          protocolLevel: 4,
          expiryInterval: 0xffffffff,
          disconnectedAt: T,
          subscriptions: want.subscriptions as StoredSession['subscriptions'],
          queue,
          incomingQos2: incoming,
          will: undefined,
        })
        const seqs = got.queue.map((q) => q.seq)
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
      }
      expect(report).toEqual({
        retained: fixture.retained.topics.length,
        sessions: Object.keys(fixture.sessions).length,
        subscriptions: fixture.tables.mqtt_subscriptions,
        queued: fixture.queued.length,
        incomingQos2: fixture.incomingQos2.length,
        wills: fixture.wills.count,
        recovered: 0,
      })
    } finally {
      db.close()
    }
  })

  it('keeps the rest of the hub’s data and the old tables; the registered step also drops them', () => {
    using dir = tempDir()
    const db = openFixture(dir.path)
    try {
      for (const table of [
        'users',
        'api_tokens',
        'devices',
        'hooks',
        'webhook_targets',
        'rules',
        'schedules',
      ])
        expect([table, (db.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n]).toEqual([
          table,
          fixture.tables[table as keyof typeof fixture.tables],
        ])
      migrateAedesTables(db, { now: () => T })
      expect(tableNames(db)).toContain('mqtt_outgoing')

      // As the hub opens it: every step, the upgrade among them.
      using fresh = tempDir()
      copyFileSync(FIXTURE, join(fresh.path, DB_FILE))
      const other = openStore(fresh.path).db
      try {
        expect(MIGRATIONS.map((m) => m.version)).toContain(aedesUpgrade.version)
        expect(schemaVersion(other)).toBe(MIGRATIONS.at(-1)?.version ?? 0)
        expect(tableNames(other).filter((t) => t.startsWith('mqtt_'))).toEqual([])
        const state = createSqliteEngineStore({ db: other, log }).load()
        expect(state.retained.length).toBe(fixture.retained.topics.length)
        expect(state.sessions.flatMap((s) => s.queue).length).toBe(fixture.queued.length)
      } finally {
        other.close()
      }
      dropAedesTables(db)
      expect(tableNames(db).filter((t) => t.startsWith('mqtt_'))).toEqual([])
    } finally {
      db.close()
    }
  })

  it('brings back the wills of clients connected when 0.1.0 was killed, and routes what it acknowledged but never routed', () => {
    using dir = tempDir()
    const db = openDatabase(join(dir.path, DB_FILE))
    try {
      migrate(db, BEFORE)
      // Rows as 0.1.0's persistence (src/broker/persistence/codec.ts) writes them.
      const publish = (fields: Record<string, unknown>) =>
        JSON.stringify({ cmd: 'publish', brokerId: 'dead-run', brokerCounter: 1, dup: false, ...fields })
      const insert = (sql: string, ...values: (string | number | Uint8Array | null)[]) =>
        db.query(sql).run(...values)
      insert("INSERT INTO mqtt_subscriptions (client_id, topic, qos) VALUES ('s1', 'alerts/#', 2)")
      insert("INSERT INTO mqtt_subscriptions (client_id, topic, qos) VALUES ('s1', 'alerts/quiet', 0)")
      insert(
        "INSERT INTO mqtt_subscriptions (client_id, topic, qos, rh, rap, nl, subscription_identifier) VALUES ('s1', '$share/g/alerts/+', 1, 2, 1, 0, 9)",
      )
      insert(
        "INSERT INTO mqtt_outgoing (seq, client_id, broker_id, broker_counter, message_id, packet, payload) VALUES (5, 's1', 'dead-run', 1, NULL, ?, ?)",
        publish({ topic: 'alerts/old', qos: 1, retain: false, '\u0000undefined': ['messageId'] }),
        'old',
      )
      // A string payload is stored as TEXT; an empty retained payload is a cleared topic.
      insert(
        "INSERT INTO mqtt_retained (topic, packet, payload) VALUES ('state/text', ?, 'as text')",
        publish({ topic: 'state/text', qos: 0, retain: true }),
      )
      insert(
        "INSERT INTO mqtt_retained (topic, packet, payload) VALUES ('state/empty', ?, ?)",
        publish({ topic: 'state/empty', qos: 0, retain: true }),
        new Uint8Array(),
      )
      insert(
        "INSERT INTO mqtt_wills (client_id, broker_id, packet, payload) VALUES ('dev-1', 'dead-run', ?, ?)",
        publish({
          topic: 'devices/dev-1/status',
          qos: 1,
          retain: true,
          clientId: 'dev-1',
          properties: {
            contentType: 'text/plain',
            correlationData: { '\u0000base64': Buffer.from([1, 2]).toString('base64') },
            userProperties: { a: ['1', '2'], b: '3' },
          },
        }),
        Buffer.from('lost'),
      )
      insert(
        "INSERT INTO mqtt_wills (client_id, broker_id, packet, payload) VALUES ('s1', 'dead-run', ?, ?)",
        publish({ topic: 'alerts/s1-gone', qos: 0, retain: false }),
        Buffer.from('bye'),
      )
      insert(
        "INSERT INTO mqtt_incoming (client_id, message_id, packet, payload, routed) VALUES ('pub', 7, ?, ?, 0)",
        publish({ topic: 'alerts/smoke', qos: 2, retain: false, messageId: 7 }),
        Buffer.from('smoke'),
      )
      insert(
        "INSERT INTO mqtt_acked (id, client_id, packet, payload) VALUES (1, 'pub', ?, ?)",
        publish({ topic: 'alerts/fire', qos: 1, retain: true }),
        Buffer.from('fire'),
      )

      const report = migrateAedesTables(db, { now: () => T })
      const state = createSqliteEngineStore({ db, log }).load()
      const msg = (topic: string, payload: string, qos: 0 | 1 | 2, retain = false) => ({
        topic,
        payload: Buffer.from(payload),
        qos,
        retain,
      })
      expect(state).toEqual({
        retained: [msg('state/text', 'as text', 0, true), msg('alerts/fire', 'fire', 1, true)],
        sessions: [
          {
            clientId: 's1',
            owner: undefined,
            protocolLevel: 4,
            expiryInterval: 0xffffffff,
            // Connected when the old run died: it held a will.
            disconnectedAt: undefined,
            subscriptions: [
              { filter: 'alerts/#', qos: 2 },
              { filter: 'alerts/quiet', qos: 0 },
              {
                filter: '$share/g/alerts/+',
                qos: 1,
                retainHandling: 2,
                retainAsPublished: true,
                noLocal: false,
                identifier: 9,
              },
            ],
            queue: [
              { seq: 5, message: msg('alerts/old', 'old', 1), state: 'queued' },
              { seq: 6, message: msg('alerts/smoke', 'smoke', 2), state: 'queued' },
              { seq: 7, message: msg('alerts/fire', 'fire', 1), state: 'queued' },
            ],
            incomingQos2: [],
            will: { message: msg('alerts/s1-gone', 'bye', 0), delayInterval: 0 },
          },
          {
            clientId: 'dev-1',
            owner: undefined,
            protocolLevel: 4,
            // No persistent state: the session ends as soon as the engine has published the will.
            expiryInterval: 0,
            disconnectedAt: undefined,
            subscriptions: [],
            queue: [],
            incomingQos2: [],
            will: {
              message: {
                ...msg('devices/dev-1/status', 'lost', 1, true),
                properties: {
                  contentType: 'text/plain',
                  correlationData: Buffer.from([1, 2]),
                  userProperties: [
                    ['a', '1'],
                    ['a', '2'],
                    ['b', '3'],
                  ],
                },
              },
              delayInterval: 0,
            },
          },
        ],
      })
      expect(report).toEqual({
        retained: 1,
        sessions: 2,
        subscriptions: 3,
        queued: 1,
        incomingQos2: 0,
        wills: 2,
        recovered: 2,
      })
    } finally {
      db.close()
    }
  })

  it('does nothing on a database whose Aedes-era tables are gone', () => {
    using dir = tempDir()
    const db = openDatabase(join(dir.path, DB_FILE))
    try {
      migrate(db)
      dropAedesTables(db)
      expect(migrateAedesTables(db).sessions).toBe(0)
      expect(createSqliteEngineStore({ db, log }).load()).toEqual({ retained: [], sessions: [] })
    } finally {
      db.close()
    }
  })
})
