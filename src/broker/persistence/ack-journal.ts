import type { Database } from 'bun:sqlite'
import { decodePacket, encodePacket } from './codec.ts'
import type { Packet } from './types.ts'
import type { BatchWriter } from './writer.ts'

/**
 * Aedes sends PUBACK for a QoS 1 PUBLISH before it routes the message (aedes 1.2
 * `lib/handlers/publish.js`), so a crash right after the PUBACK would lose a message the sender
 * was told is safe. The journal holds each such message from before the PUBACK until routing
 * has queued it for every persistent session; a restart routes what is left again.
 */
export interface AckJournal {
  add(clientId: string, packet: Packet): Promise<number>
  remove(id: number): Promise<void>
  all(): Promise<{ id: number; clientId: string; packet: Packet }[]>
}

interface Row {
  id: number
  client_id: string
  packet: string
  payload: Uint8Array | string | null
}

export function createAckJournal(db: Database, writer: BatchWriter): AckJournal {
  const insert = db.query<{ id: number }, [string, string, Uint8Array | string | null]>(
    'INSERT INTO mqtt_acked (client_id, packet, payload) VALUES (?1, ?2, ?3) RETURNING id',
  )
  const remove = db.query<void, [number]>('DELETE FROM mqtt_acked WHERE id = ?1')
  const all = db.query<Row, []>('SELECT id, client_id, packet, payload FROM mqtt_acked ORDER BY id')

  return {
    add(clientId, packet) {
      const e = encodePacket(packet)
      return writer.run(() => (insert.get(clientId, e.packet, e.payload) as { id: number }).id)
    },
    remove: (id) =>
      writer.run(() => {
        remove.run(id)
      }),
    all: () =>
      writer.run(() =>
        all
          .all()
          .map((r) => ({ id: r.id, clientId: r.client_id, packet: decodePacket(r.packet, r.payload) })),
      ),
  }
}
