import type { Database } from 'bun:sqlite'
import { type Logger, silentLogger } from '../../log.ts'
import { topicMatches } from '../../mqtt/topics.ts'
import type {
  Message,
  MessageProperties,
  QoS,
  QueuedMessage,
  StoreOp,
  Subscription,
} from '../../mqtt/types.ts'
import { asBuffer } from '../mqtt/message-columns.ts'
import { createSqliteEngineStore, rowSubscription, type SubscriptionRow } from '../mqtt/sqlite-store.ts'
import type { Migration } from './index.ts'

// The Aedes-era broker tables of migration 002, as release 0.1.0 wrote them
// (src/broker/persistence). This file reads their rows on its own, so it keeps working once that
// code and its dependencies are gone.
const AEDES_TABLES = [
  'mqtt_retained',
  'mqtt_subscriptions',
  'mqtt_outgoing',
  'mqtt_incoming',
  'mqtt_wills',
  'mqtt_acked',
] as const

/** MQTT 3.1.1 sessions with CleanSession = 0 never expire [MQTT-3.1.2-4]; 5.0 spells that 0xFFFFFFFF. */
const NEVER_EXPIRES = 0xffffffff
// Aedes 1.2 speaks 3.1 and 3.1.1 and did not keep which; 3.1.1 is what a device today connects with.
const PROTOCOL_LEVEL = 4

/** What was carried over, for the log line of the upgrade. */
interface AedesUpgradeReport {
  retained: number
  sessions: number
  subscriptions: number
  queued: number
  incomingQos2: number
  wills: number
  /** Messages 0.1.0 acknowledged but had not routed when it stopped, routed now (to queues and retained). */
  recovered: number
}

interface AedesUpgradeOptions {
  /** When the sessions without a connection at the time of the upgrade count as disconnected. */
  now?: () => number
  log?: Logger
}

/**
 * Carries the Aedes-era broker tables (retained messages, persistent sessions' subscriptions and
 * queues, incoming QoS 2 ids, wills, and what 0.1.0 acknowledged but had not routed) over into
 * the broker store's tables (migration 015), in one transaction. It leaves the old tables as they
 * are; `aedesUpgrade` also drops them. Meant for empty broker store tables: what it writes
 * replaces rows with the same keys.
 *
 * - Sessions are the client ids with subscriptions or queued messages (CleanSession = 0, never
 *   expire), plus clients that held a will: those were connected when 0.1.0 stopped without
 *   closing them (killed), so they come back as connected-at-crash sessions (no `disconnectedAt`)
 *   and the engine publishes their wills as it does after its own crash [MQTT-3.1.2-8]. A client
 *   with a will and no persistent state gets a session that expires at once (expiry 0).
 * - Owners are unknown (0.1.0 did not record who created a session): `owner` is left undefined.
 * - A queued message gets the QoS it is delivered at (0.1.0 stored the publish's QoS and lowered
 *   it at delivery to the highest matching subscription's) [MQTT-3.8.4-6]. A QoS 2 message whose
 *   PUBREL was sent is stored by 0.1.0 as that PUBREL alone: it comes over as state `released`
 *   with its packet id and an empty message (topic "", no payload), all the engine needs to send
 *   the PUBREL again [MQTT-4.4.0-1].
 */
export function migrateAedesTables(db: Database, opts: AedesUpgradeOptions = {}): AedesUpgradeReport {
  const log = opts.log ?? silentLogger()
  const now = opts.now ?? Date.now
  const report: AedesUpgradeReport = {
    retained: 0,
    sessions: 0,
    subscriptions: 0,
    queued: 0,
    incomingQos2: 0,
    wills: 0,
    recovered: 0,
  }
  if (!hasAedesTables(db)) return report

  const ops: StoreOp[] = []
  const sessions = readSessions(db)

  for (const r of db
    .query<StoredRow & { topic: string }, []>(
      'SELECT topic, packet, payload FROM mqtt_retained ORDER BY rowid',
    )
    .all()) {
    const message = toMessage(decodePacket(r.packet), r.payload)
    if (message.payload.length === 0) continue
    ops.push({ op: 'retain', topic: r.topic, message: { ...message, topic: r.topic, retain: true } })
    report.retained++
  }

  for (const [clientId, s] of sessions) {
    ops.push({
      op: 'session',
      clientId,
      owner: undefined,
      protocolLevel: PROTOCOL_LEVEL,
      expiryInterval: s.persistent ? NEVER_EXPIRES : 0,
      disconnectedAt: s.will ? undefined : now(),
    })
    report.sessions++
    for (const subscription of s.subscriptions) {
      ops.push({ op: 'subscribe', clientId, subscription })
      report.subscriptions++
    }
    for (const item of s.queue) {
      ops.push({ op: 'enqueue', clientId, item })
      report.queued++
    }
    for (const packetId of s.incoming) {
      ops.push({ op: 'incoming', clientId, packetId })
      report.incomingQos2++
    }
    if (s.will) {
      ops.push({ op: 'will', clientId, will: { message: s.will, delayInterval: 0 } })
      report.wills++
    }
  }

  // What 0.1.0 acknowledged (QoS 2 PUBREC, QoS 1 PUBACK) but had not routed when it died goes
  // where routing would have put it for an offline hub: retained, and the persistent sessions'
  // queues. 0.1.0's own recovery routed them in this order on its next start.
  const leftovers = [
    ...db
      .query<StoredRow, []>('SELECT packet, payload FROM mqtt_incoming WHERE routed = 0 ORDER BY rowid')
      .all(),
    ...db.query<StoredRow, []>('SELECT packet, payload FROM mqtt_acked ORDER BY id').all(),
  ]
  for (const r of leftovers) {
    const message = toMessage(decodePacket(r.packet), r.payload)
    if (message.retain) {
      ops.push({
        op: 'retain',
        topic: message.topic,
        message: message.payload.length > 0 ? message : undefined,
      })
    }
    for (const [clientId, s] of sessions) {
      const qos = deliveryQos(s.subscriptions, message.topic)
      if (qos === undefined || qos === 0) continue
      const item: QueuedMessage = {
        seq: ++s.lastSeq,
        message: { ...message, qos: Math.min(qos, message.qos) as QoS, retain: false },
        state: 'queued',
      }
      ops.push({ op: 'enqueue', clientId, item })
    }
    report.recovered++
  }

  createSqliteEngineStore({ db, log }).write(ops)
  if (report.sessions + report.retained + report.recovered > 0)
    log.info('carried over the Aedes-era MQTT state', { ...report })
  return report
}

/** Drops the Aedes-era broker tables (after `migrateAedesTables` carried their rows over). */
export function dropAedesTables(db: Database): void {
  for (const table of AEDES_TABLES) db.run(`DROP TABLE IF EXISTS ${table}`)
}

/**
 * The schema step that replaces the Aedes-era broker tables with the broker store's: carries
 * their rows over, then drops them. Register it (in src/store/migrations/index.ts) only in the
 * build that runs the MQTT engine instead of Aedes; renumber `version` if another step took 14.
 */
export const aedesUpgrade: Migration = {
  version: 16,
  name: 'broker store: carry over the Aedes-era broker tables and drop them',
  up(db) {
    migrateAedesTables(db)
    dropAedesTables(db)
  },
  drops: AEDES_TABLES,
}

function hasAedesTables(db: Database): boolean {
  const found = db
    .query<{ n: number }, []>(
      `SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN (${AEDES_TABLES.map((t) => `'${t}'`).join(', ')})`,
    )
    .get()
  return found?.n === AEDES_TABLES.length
}

// ── Reading 0.1.0's rows ─────────────────────────────────────────────────────────────────────────

interface StoredRow {
  /** Every packet field but the payload, as JSON. */
  packet: string
  /** A Buffer payload as a BLOB, a string payload as TEXT. */
  payload: Uint8Array | string | null
}

/** The fields of an Aedes packet this upgrade reads (mqtt-packet names). */
interface AedesPacket {
  cmd?: string
  topic?: string
  qos?: number
  retain?: boolean
  messageId?: number
  properties?: {
    payloadFormatIndicator?: boolean
    contentType?: string
    responseTopic?: string
    correlationData?: Buffer
    userProperties?: Record<string, string | string[]>
  }
}

interface Session {
  persistent: boolean
  subscriptions: Subscription[]
  queue: QueuedMessage[]
  incoming: number[]
  will: Message | undefined
  lastSeq: number
}

/** Every client id with state to carry over, in the order it first appears. */
function readSessions(db: Database): Map<string, Session> {
  const sessions = new Map<string, Session>()
  const session = (clientId: string, persistent: boolean): Session => {
    let s = sessions.get(clientId)
    if (!s) {
      s = { persistent, subscriptions: [], queue: [], incoming: [], will: undefined, lastSeq: 0 }
      sessions.set(clientId, s)
    }
    return s
  }

  for (const r of db
    .query<SubscriptionRow, []>(
      `SELECT client_id, topic AS filter, qos, nl AS no_local, rap AS retain_as_published,
         rh AS retain_handling, subscription_identifier AS identifier
       FROM mqtt_subscriptions ORDER BY rowid`,
    )
    .all()) {
    session(r.client_id, true).subscriptions.push(rowSubscription(r))
  }

  for (const r of db
    .query<StoredRow & { client_id: string; seq: number; message_id: number | null }, []>(
      'SELECT client_id, seq, message_id, packet, payload FROM mqtt_outgoing ORDER BY seq',
    )
    .all()) {
    const s = session(r.client_id, true)
    const packet = decodePacket(r.packet)
    // The global rowid order is each client's queue order, so it serves as the per-session seq.
    s.lastSeq = r.seq
    if (packet.cmd === 'pubrel') {
      s.queue.push({
        seq: r.seq,
        message: { topic: '', payload: Buffer.alloc(0), qos: 2, retain: false },
        packetId: r.message_id ?? (packet.messageId as number),
        state: 'released',
      })
      continue
    }
    const message = toMessage(packet, r.payload)
    const qos = deliveryQos(s.subscriptions, message.topic)
    if (qos !== undefined && qos < message.qos) message.qos = qos
    s.queue.push(
      r.message_id === null
        ? { seq: r.seq, message, state: 'queued' }
        : { seq: r.seq, message, packetId: r.message_id, state: 'sent' },
    )
  }

  // Incoming ids matter only to a session that resumes; a clean client starts afresh.
  for (const r of db
    .query<{ client_id: string; message_id: number }, []>(
      'SELECT client_id, message_id FROM mqtt_incoming ORDER BY rowid',
    )
    .all()) {
    sessions.get(r.client_id)?.incoming.push(r.message_id)
  }

  for (const r of db
    .query<StoredRow & { client_id: string }, []>(
      'SELECT client_id, packet, payload FROM mqtt_wills ORDER BY rowid',
    )
    .all()) {
    session(r.client_id, false).will = toMessage(decodePacket(r.packet), r.payload)
  }
  return sessions
}

/** The highest QoS among a session's subscriptions matching `topic` [MQTT-3.3.5-1]; undefined if none does. */
function deliveryQos(subscriptions: readonly Subscription[], topic: string): QoS | undefined {
  let best: QoS | undefined
  for (const sub of subscriptions) {
    if (topicMatches(unshared(sub.filter), topic) && (best === undefined || sub.qos > best)) best = sub.qos
  }
  return best
}

/** `$share/<group>/<filter>` matches as `<filter>` [MQTT-4.8.2]. */
function unshared(filter: string): string {
  if (!filter.startsWith('$share/')) return filter
  const slash = filter.indexOf('/', '$share/'.length)
  return slash === -1 ? filter : filter.slice(slash + 1)
}

function toMessage(packet: AedesPacket, payload: Uint8Array | string | null): Message {
  const message: Message = {
    topic: packet.topic ?? '',
    payload:
      payload === null
        ? Buffer.alloc(0)
        : typeof payload === 'string'
          ? Buffer.from(payload)
          : asBuffer(payload),
    qos: Math.min(Math.max(packet.qos ?? 0, 0), 2) as QoS,
    retain: packet.retain === true,
  }
  const properties = toProperties(packet.properties)
  if (properties) message.properties = properties
  return message
}

/** mqtt-packet's property shapes as the engine's (a boolean format flag, user properties as an object). */
function toProperties(p: AedesPacket['properties']): MessageProperties | undefined {
  if (!p) return undefined
  const out: MessageProperties = {}
  if (p.payloadFormatIndicator !== undefined) out.payloadFormatIndicator = p.payloadFormatIndicator ? 1 : 0
  if (p.contentType !== undefined) out.contentType = p.contentType
  if (p.responseTopic !== undefined) out.responseTopic = p.responseTopic
  if (p.correlationData !== undefined) out.correlationData = p.correlationData
  if (p.userProperties) {
    // mqtt-packet folds repeated names into an array; the order within a name is kept.
    out.userProperties = Object.entries(p.userProperties).flatMap(([name, value]) =>
      (Array.isArray(value) ? value : [value]).map((v) => [name, v] as const),
    )
  }
  return Object.keys(out).length > 0 ? out : undefined
}

// src/broker/persistence/codec.ts marks a nested binary value (MQTT 5 correlation data) so, and
// lists fields that were undefined under another marker key, which is simply not read here.
const BINARY = '\u0000base64'

function decodePacket(json: string): AedesPacket {
  return JSON.parse(json, (_key, value: unknown) =>
    value && typeof value === 'object' && BINARY in value
      ? Buffer.from((value as Record<string, string>)[BINARY] as string, 'base64')
      : value,
  ) as AedesPacket
}
