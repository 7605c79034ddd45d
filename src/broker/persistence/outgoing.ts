import type { Database } from 'bun:sqlite'
import { Readable } from 'node:stream'
import { decodePacket, encodePacket, queuedPacket } from './codec.ts'
import type { Packet } from './types.ts'
import type { BatchWriter } from './writer.ts'

/**
 * Each persistent session's outgoing queue: QoS 1/2 messages waiting for the client, then in
 * flight (a messageId assigned, awaiting PUBACK / PUBREC), then a PUBREL awaiting PUBCOMP
 * [MQTT-4.4.0-1]. Rows are in queue order (`seq`).
 */
export interface OutgoingStore {
  enqueue(clientIds: readonly string[], packet: Packet): Promise<void>
  update(clientId: string, packet: Packet): Promise<void>
  clear(clientId: string, messageId: number | undefined): Promise<Packet | undefined>
  stream(clientId: string): Readable
}

interface Row {
  seq: number
  packet: string
  payload: Uint8Array | string | null
  message_id: number | null
}

type Id = string | null
type Num = number | null
type Blob = Uint8Array | string | null

const PAGE = 64

export function createOutgoingStore(db: Database, writer: BatchWriter): OutgoingStore {
  const insert = db.query<void, [string, Id, Num, Num, string, Blob]>(
    `INSERT INTO mqtt_outgoing (client_id, broker_id, broker_counter, message_id, packet, payload)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)`,
  )
  const byBroker = db.query<{ seq: number }, [string, string, Num]>(
    `SELECT seq FROM mqtt_outgoing WHERE client_id = ?1 AND broker_id = ?2 AND broker_counter IS ?3
     ORDER BY seq LIMIT 1`,
  )
  const byMessageId = db.query<{ seq: number }, [string, number, Id]>(
    `SELECT seq FROM mqtt_outgoing
     WHERE client_id = ?1 AND message_id = ?2 AND (?3 IS NULL OR broker_id IS NOT ?3)
     ORDER BY seq LIMIT 1`,
  )
  const setMessageId = db.query<void, [Num, number]>(
    'UPDATE mqtt_outgoing SET message_id = ?1 WHERE seq = ?2',
  )
  // The common case in one statement: this very message, with no earlier entry holding its id.
  const assignId = db.query<void, [string, string, Num, number]>(
    `UPDATE mqtt_outgoing SET message_id = ?4 WHERE seq = (
       SELECT seq FROM mqtt_outgoing WHERE client_id = ?1 AND broker_id = ?2 AND broker_counter IS ?3
       ORDER BY seq LIMIT 1)
     AND NOT EXISTS (
       SELECT 1 FROM mqtt_outgoing o WHERE o.client_id = ?1 AND o.message_id = ?4 AND o.broker_id IS NOT ?2
         AND o.seq < mqtt_outgoing.seq)`,
  )
  const replace = db.query<void, [Id, Num, Num, string, Blob, number]>(
    `UPDATE mqtt_outgoing SET broker_id = ?1, broker_counter = ?2, message_id = ?3, packet = ?4, payload = ?5
     WHERE seq = ?6`,
  )
  const clearOne = db.query<Row, [string, number]>(
    `DELETE FROM mqtt_outgoing WHERE seq = (
       SELECT seq FROM mqtt_outgoing WHERE client_id = ?1 AND message_id = ?2 ORDER BY seq LIMIT 1)
     RETURNING seq, packet, payload, message_id`,
  )
  const last = db.query<{ seq: number | null }, [string]>(
    'SELECT max(seq) AS seq FROM mqtt_outgoing WHERE client_id = ?1',
  )
  const page = db.query<Row, [string, number, number]>(
    `SELECT seq, packet, payload, message_id FROM mqtt_outgoing
     WHERE client_id = ?1 AND seq > ?2 AND seq <= ?3 ORDER BY seq LIMIT ${PAGE}`,
  )

  const decode = (r: Row): Packet => {
    const p = decodePacket(r.packet, r.payload)
    // The column is the truth: a delivery assigns the id without rewriting the packet.
    if (r.message_id !== null) p.messageId = r.message_id
    return p
  }

  return {
    enqueue(clientIds, packet) {
      if (clientIds.length === 0) return Promise.resolve()
      const q = queuedPacket(packet)
      const e = encodePacket(q)
      const brokerId = q.brokerId ?? null
      const counter = q.brokerCounter ?? null
      const messageId = q.messageId ?? null
      // Deferred, for the reason given in retained.ts: a later op (the journal's removal, the QoS 2
      // routed mark, a delivery's update) commits no earlier than these rows.
      return writer.defer(() => {
        for (const id of clientIds) insert.run(id, brokerId, counter, messageId, e.packet, e.payload)
      })
    },

    update(clientId, packet) {
      const brokerId = packet.brokerId ?? null
      const counter = packet.brokerCounter ?? null
      const messageId = packet.messageId ?? null
      return writer.run(() => {
        // As the memory persistence: the first entry in queue order that is this very message
        // (same broker and counter: it gets its messageId), or another message holding this
        // messageId (a PUBREL replacing its PUBLISH or a repeated PUBREL, or a packet from an
        // earlier broker run): that entry is replaced. Counters restart with each broker run, the
        // broker id does not repeat.
        if (
          brokerId !== null &&
          messageId !== null &&
          assignId.run(clientId, brokerId, counter, messageId).changes
        ) {
          return
        }
        const mine = brokerId === null ? null : byBroker.get(clientId, brokerId, counter)
        const other = messageId === null ? null : byMessageId.get(clientId, messageId, brokerId)
        if (mine && (!other || mine.seq < other.seq)) {
          setMessageId.run(messageId, mine.seq)
          return
        }
        if (!other) throw new Error('no such packet')
        const e = encodePacket(packet)
        replace.run(brokerId, counter, messageId, e.packet, e.payload, other.seq)
      })
    },

    clear(clientId, messageId) {
      if (messageId === undefined || messageId === null) return Promise.resolve(undefined)
      return writer.run(() => {
        const row = clearOne.get(clientId, messageId)
        return row ? decode(row) : undefined
      })
    },

    stream(clientId) {
      // The queue as it is now: what is enqueued while the stream is read reaches an online
      // client live, so it must not be sent a second time from here.
      const until = writer.run(() => last.get(clientId)?.seq ?? 0)
      async function* rows(): AsyncGenerator<Packet> {
        const end = await until
        let after = 0
        for (;;) {
          const batch = await writer.run(() => page.all(clientId, after, end))
          for (const r of batch) yield decode(r)
          const tail = batch.at(-1)
          if (!tail || batch.length < PAGE) return
          after = tail.seq
        }
      }
      return Readable.from(rows())
    },
  }
}
