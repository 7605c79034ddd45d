import type { Database } from 'bun:sqlite'
import { decodePacket, encodePacket } from './codec.ts'
import type { Packet } from './types.ts'
import type { BatchWriter } from './writer.ts'

/**
 * Will messages of connected clients, with the broker run that holds the connection: a will whose
 * broker is gone (the hub was killed) is still published [MQTT-3.1.2-8].
 */
export interface WillStore {
  put(clientId: string, brokerId: string, packet: Packet): Promise<void>
  get(clientId: string): Promise<Packet | undefined>
  del(clientId: string): Promise<Packet | undefined>
  /** Deletes the will only if it still belongs to that broker run (the client may be back). */
  delFrom(clientId: string, brokerId: string): Promise<void>
  /** Wills held by brokers not in `brokers`. */
  orphans(brokers: Record<string, unknown>): Promise<Packet[]>
}

interface Row {
  packet: string
  payload: Uint8Array | string | null
  broker_id: string | null
}

export function createWillStore(db: Database, writer: BatchWriter): WillStore {
  const upsert = db.query<void, [string, string, string, Uint8Array | string | null]>(
    `INSERT INTO mqtt_wills (client_id, broker_id, packet, payload) VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (client_id) DO UPDATE SET broker_id = excluded.broker_id, packet = excluded.packet,
       payload = excluded.payload`,
  )
  const get = db.query<Row, [string]>(
    'SELECT packet, payload, broker_id FROM mqtt_wills WHERE client_id = ?1',
  )
  const del = db.query<Row, [string]>(
    'DELETE FROM mqtt_wills WHERE client_id = ?1 RETURNING packet, payload, broker_id',
  )
  const delFrom = db.query<void, [string, string]>(
    'DELETE FROM mqtt_wills WHERE client_id = ?1 AND broker_id = ?2',
  )
  const all = db.query<Row, []>('SELECT packet, payload, broker_id FROM mqtt_wills ORDER BY rowid')

  const decode = (r: Row | null): Packet | undefined => (r ? decodePacket(r.packet, r.payload) : undefined)

  return {
    put(clientId, brokerId, packet) {
      const e = encodePacket(packet)
      return writer.run(() => {
        upsert.run(clientId, brokerId, e.packet, e.payload)
      })
    },
    get: (clientId) => writer.run(() => decode(get.get(clientId))),
    del: (clientId) => writer.run(() => decode(del.get(clientId))),
    delFrom: (clientId, brokerId) =>
      writer.run(() => {
        delFrom.run(clientId, brokerId)
      }),
    orphans: (brokers) =>
      writer.run(() =>
        all
          .all()
          .filter((r) => r.broker_id === null || !brokers[r.broker_id])
          .map((r) => decodePacket(r.packet, r.payload)),
      ),
  }
}
