import type { Database } from 'bun:sqlite'
import { decodePacket, encodePacket, queuedPacket } from './codec.ts'
import type { Packet } from './types.ts'
import type { BatchWriter } from './writer.ts'

/**
 * Incoming QoS 2 messages between PUBLISH and PUBREL [MQTT-4.3.3-2], keyed by (client, messageId):
 * a repeated PUBLISH is recognised and not delivered twice. `routed` records that the message got
 * past the broker's routing, so one stored by a run that died before that can be routed on restart.
 */
export interface IncomingStore {
  store(clientId: string, packet: Packet): Promise<void>
  get(clientId: string, messageId: number | undefined): Promise<Packet>
  del(clientId: string, messageId: number | undefined): Promise<void>
  clean(clientId: string): Promise<void>
  markRouted(clientId: string, messageId: number): Promise<void>
  /** Stored messages that no broker run routed. */
  unrouted(): Promise<{ clientId: string; packet: Packet }[]>
}

interface Row {
  client_id: string
  packet: string
  payload: Uint8Array | string | null
}

export function createIncomingStore(db: Database, writer: BatchWriter): IncomingStore {
  const upsert = db.query<void, [string, number, string, Uint8Array | string | null]>(
    `INSERT INTO mqtt_incoming (client_id, message_id, packet, payload, routed) VALUES (?1, ?2, ?3, ?4, 0)
     ON CONFLICT (client_id, message_id) DO UPDATE SET packet = excluded.packet, payload = excluded.payload,
       routed = 0`,
  )
  const get = db.query<Row, [string, number]>(
    'SELECT client_id, packet, payload FROM mqtt_incoming WHERE client_id = ?1 AND message_id = ?2',
  )
  const del = db.query<void, [string, number]>(
    'DELETE FROM mqtt_incoming WHERE client_id = ?1 AND message_id = ?2',
  )
  const clean = db.query<void, [string]>('DELETE FROM mqtt_incoming WHERE client_id = ?1')
  const routed = db.query<void, [string, number]>(
    'UPDATE mqtt_incoming SET routed = 1 WHERE client_id = ?1 AND message_id = ?2',
  )
  const unrouted = db.query<Row, []>(
    'SELECT client_id, packet, payload FROM mqtt_incoming WHERE routed = 0 ORDER BY rowid',
  )

  const missing = () => new Error('no such packet')

  return {
    store(clientId, packet) {
      const q = queuedPacket(packet)
      q.messageId = packet.messageId
      const e = encodePacket(q)
      const messageId = packet.messageId as number
      return writer.run(() => {
        upsert.run(clientId, messageId, e.packet, e.payload)
      })
    },

    get(clientId, messageId) {
      return writer.run(() => {
        const row = messageId === undefined ? null : get.get(clientId, messageId)
        if (!row) throw missing()
        return decodePacket(row.packet, row.payload)
      })
    },

    del(clientId, messageId) {
      return writer.run(() => {
        if (messageId === undefined || del.run(clientId, messageId).changes === 0) throw missing()
      })
    },

    clean(clientId) {
      return writer.run(() => {
        clean.run(clientId)
      })
    },

    markRouted(clientId, messageId) {
      return writer.run(() => {
        routed.run(clientId, messageId)
      })
    },

    unrouted() {
      return writer.run(() =>
        unrouted.all().map((r) => ({ clientId: r.client_id, packet: decodePacket(r.packet, r.payload) })),
      )
    },
  }
}
