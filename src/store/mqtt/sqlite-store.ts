import type { Database, SQLQueryBindings } from 'bun:sqlite'
import type { Logger } from '../../log.ts'
import type {
  EngineStore,
  ProtocolLevel,
  QoS,
  QueuedMessage,
  StoredSession,
  StoredState,
  StoreOp,
  Subscription,
} from '../../mqtt/types.ts'
import {
  MESSAGE_COLUMNS,
  type MessageColumns,
  type MessageRow,
  messageColumns,
  rowMessage,
} from './message-columns.ts'

interface SqliteEngineStoreOptions {
  /** The hub's database, migrated (tables of migration 015). The store never closes it. */
  db: Database
  log: Logger
}

// Queue state as stored: a small integer per row rather than a string.
const STATES = ['queued', 'sent', 'released'] as const
type QueueState = (typeof STATES)[number]
const stateCode = (state: QueueState | undefined): number | null =>
  state === undefined ? null : STATES.indexOf(state)

type Null<T> = T | null

interface SessionRow {
  client_id: string
  owner: string | null
  protocol_level: number
  expiry_interval: number
  disconnected_at: number | null
}

/** A subscription's columns (migration 015). */
export interface SubscriptionRow {
  client_id: string
  filter: string
  qos: number
  no_local: number | null
  retain_as_published: number | null
  retain_handling: number | null
  identifier: number | null
}

interface QueueRow extends MessageRow {
  client_id: string
  seq: number
  subscription_ids: string | null
  packet_id: number | null
  state: number | null
}

interface WillRow extends MessageRow {
  client_id: string
  delay_interval: number
}

/** The engine's store, synchronous: SQLite answers at once, so the engine need not wait a turn. */
export interface SqliteEngineStore extends EngineStore {
  load(): StoredState
  write(ops: readonly StoreOp[]): void
}

/**
 * The MQTT engine's store on the hub's SQLite database. `write` applies one tick's operations in
 * one transaction with prepared statements: all of them or, when one fails (a queue item for a
 * session never written, a repeated seq), none, and the error is thrown to the engine. Durable on
 * return as far as the database's pragmas make a commit durable (WAL: a killed process loses
 * nothing committed).
 */
export function createSqliteEngineStore(opts: SqliteEngineStoreOptions): SqliteEngineStore {
  const { db } = opts
  const log = opts.log.child('mqtt-store')
  const statements = prepare(db)
  const apply = db.transaction((ops: readonly StoreOp[]) => {
    for (const op of ops) applyOp(statements, op)
  })

  return {
    load: () => loadState(db, log),
    write(ops) {
      if (ops.length === 0) return
      try {
        apply(ops)
      } catch (err) {
        log.error('writing MQTT state failed; nothing of the batch was written', { ops: ops.length, err })
        throw err
      }
    },
  }
}

type Statements = ReturnType<typeof prepare>

function prepare(db: Database) {
  const q = <P extends SQLQueryBindings[]>(sql: string) => db.query<void, P>(sql)
  return {
    retain: q<[...MessageColumns]>(
      `INSERT INTO broker_retained (${MESSAGE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
       ON CONFLICT (topic) DO UPDATE SET payload = ?2, qos = ?3, retain = ?4, properties = ?5,
         correlation_data = ?6, expires_at = ?7`,
    ),
    unretain: q<[string]>('DELETE FROM broker_retained WHERE topic = ?1'),
    // An upsert, never INSERT OR REPLACE: a replace deletes the row and its cascade would take
    // the session's subscriptions and queue with it.
    session: q<[string, Null<string>, number, number, Null<number>]>(
      `INSERT INTO broker_sessions (client_id, owner, protocol_level, expiry_interval, disconnected_at)
       VALUES (?1, ?2, ?3, ?4, ?5)
       ON CONFLICT (client_id) DO UPDATE SET owner = ?2, protocol_level = ?3, expiry_interval = ?4,
         disconnected_at = ?5`,
    ),
    sessionDelete: q<[string]>('DELETE FROM broker_sessions WHERE client_id = ?1'),
    subscribe: q<[string, string, number, Null<number>, Null<number>, Null<number>, Null<number>]>(
      `INSERT INTO broker_subscriptions
         (client_id, filter, qos, no_local, retain_as_published, retain_handling, identifier)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
       ON CONFLICT (client_id, filter) DO UPDATE SET qos = ?3, no_local = ?4, retain_as_published = ?5,
         retain_handling = ?6, identifier = ?7`,
    ),
    unsubscribe: q<[string, string]>('DELETE FROM broker_subscriptions WHERE client_id = ?1 AND filter = ?2'),
    enqueue: q<[string, number, ...MessageColumns, Null<string>, Null<number>, Null<number>]>(
      `INSERT INTO broker_queue (client_id, seq, ${MESSAGE_COLUMNS}, subscription_ids, packet_id, state)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)`,
    ),
    outgoing: q<[string, number, number, number]>(
      'UPDATE broker_queue SET packet_id = ?3, state = ?4 WHERE client_id = ?1 AND seq = ?2',
    ),
    dequeue: q<[string, number]>('DELETE FROM broker_queue WHERE client_id = ?1 AND seq = ?2'),
    incoming: q<[string, number]>(
      'INSERT INTO broker_incoming (client_id, packet_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING',
    ),
    incomingRelease: q<[string, number]>(
      'DELETE FROM broker_incoming WHERE client_id = ?1 AND packet_id = ?2',
    ),
    will: q<[string, ...MessageColumns, number]>(
      `INSERT INTO broker_wills (client_id, ${MESSAGE_COLUMNS}, delay_interval)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
       ON CONFLICT (client_id) DO UPDATE SET topic = ?2, payload = ?3, qos = ?4, retain = ?5,
         properties = ?6, correlation_data = ?7, expires_at = ?8, delay_interval = ?9`,
    ),
    willDelete: q<[string]>('DELETE FROM broker_wills WHERE client_id = ?1'),
  }
}

const flag = (v: boolean | undefined): number | null => (v === undefined ? null : v ? 1 : 0)

function applyOp(s: Statements, op: StoreOp): void {
  switch (op.op) {
    case 'retain':
      // An empty payload clears the topic's retained message [MQTT-3.3.1-10], as no message does.
      if (op.message && op.message.payload.length > 0) {
        const columns = messageColumns(op.message)
        columns[0] = op.topic
        s.retain.run(...columns)
      } else {
        s.unretain.run(op.topic)
      }
      return
    case 'session':
      s.session.run(
        op.clientId,
        op.owner ?? null,
        op.protocolLevel,
        op.expiryInterval,
        op.disconnectedAt ?? null,
      )
      return
    case 'session-delete':
      s.sessionDelete.run(op.clientId)
      return
    case 'subscribe': {
      const sub = op.subscription
      s.subscribe.run(
        op.clientId,
        sub.filter,
        sub.qos,
        flag(sub.noLocal),
        flag(sub.retainAsPublished),
        sub.retainHandling ?? null,
        sub.identifier ?? null,
      )
      return
    }
    case 'unsubscribe':
      s.unsubscribe.run(op.clientId, op.filter)
      return
    case 'enqueue': {
      const { item } = op
      s.enqueue.run(
        op.clientId,
        item.seq,
        ...messageColumns(item.message),
        item.subscriptionIds ? JSON.stringify(item.subscriptionIds) : null,
        item.packetId ?? null,
        stateCode(item.state),
      )
      return
    }
    case 'outgoing':
      s.outgoing.run(op.clientId, op.seq, op.packetId, stateCode(op.state) as number)
      return
    case 'dequeue':
      s.dequeue.run(op.clientId, op.seq)
      return
    case 'incoming':
      s.incoming.run(op.clientId, op.packetId)
      return
    case 'incoming-release':
      s.incomingRelease.run(op.clientId, op.packetId)
      return
    case 'will':
      if (op.will) s.will.run(op.clientId, ...messageColumns(op.will.message), op.will.delayInterval)
      else s.willDelete.run(op.clientId)
      return
  }
}

/** Everything the store holds, sessions in the order they were created, queues in seq order. */
function loadState(db: Database, log: Logger): StoredState {
  const sessions = new Map<string, StoredSession>()
  for (const r of db
    .query<SessionRow, []>(
      'SELECT client_id, owner, protocol_level, expiry_interval, disconnected_at FROM broker_sessions ORDER BY rowid',
    )
    .all()) {
    sessions.set(r.client_id, {
      clientId: r.client_id,
      owner: r.owner ?? undefined,
      protocolLevel: r.protocol_level as ProtocolLevel,
      expiryInterval: r.expiry_interval,
      disconnectedAt: r.disconnected_at ?? undefined,
      subscriptions: [],
      queue: [],
      incomingQos2: [],
      will: undefined,
    })
  }
  // Children of a session exist only with it (foreign keys), so every lookup below finds one.
  const of = (clientId: string) => sessions.get(clientId) as StoredSession

  for (const r of db
    .query<SubscriptionRow, []>(
      `SELECT client_id, filter, qos, no_local, retain_as_published, retain_handling, identifier
       FROM broker_subscriptions ORDER BY rowid`,
    )
    .all()) {
    of(r.client_id).subscriptions.push(rowSubscription(r))
  }
  for (const r of db
    .query<QueueRow, []>(
      `SELECT client_id, seq, ${MESSAGE_COLUMNS}, subscription_ids, packet_id, state
       FROM broker_queue ORDER BY client_id, seq`,
    )
    .all()) {
    const item: QueuedMessage = { seq: r.seq, message: rowMessage(r) }
    if (r.subscription_ids !== null) item.subscriptionIds = JSON.parse(r.subscription_ids)
    if (r.packet_id !== null) item.packetId = r.packet_id
    if (r.state !== null) item.state = STATES[r.state]
    of(r.client_id).queue.push(item)
  }
  for (const r of db
    .query<{ client_id: string; packet_id: number }, []>(
      'SELECT client_id, packet_id FROM broker_incoming ORDER BY client_id, packet_id',
    )
    .all()) {
    of(r.client_id).incomingQos2.push(r.packet_id)
  }
  for (const r of db
    .query<WillRow, []>(`SELECT client_id, ${MESSAGE_COLUMNS}, delay_interval FROM broker_wills`)
    .all()) {
    of(r.client_id).will = { message: rowMessage(r), delayInterval: r.delay_interval }
  }
  const retained = db
    .query<MessageRow, []>(`SELECT ${MESSAGE_COLUMNS} FROM broker_retained ORDER BY rowid`)
    .all()
    .map(rowMessage)

  const state: StoredState = { retained, sessions: [...sessions.values()] }
  log.debug('loaded MQTT state', {
    retained: retained.length,
    sessions: state.sessions.length,
    queued: state.sessions.reduce((n, s) => n + s.queue.length, 0),
  })
  return state
}

/** The subscription a row holds; options not stored stay absent. */
export function rowSubscription(r: SubscriptionRow): Subscription {
  const sub: Subscription = { filter: r.filter, qos: r.qos as QoS }
  if (r.no_local !== null) sub.noLocal = r.no_local === 1
  if (r.retain_as_published !== null) sub.retainAsPublished = r.retain_as_published === 1
  if (r.retain_handling !== null) sub.retainHandling = r.retain_handling as 0 | 1 | 2
  if (r.identifier !== null) sub.identifier = r.identifier
  return sub
}
