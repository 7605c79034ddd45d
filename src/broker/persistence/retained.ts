import type { Database } from 'bun:sqlite'
import { decodePacket, encodePacket } from './codec.ts'
import { createFilterMatcher } from './topic-match.ts'
import type { Packet } from './types.ts'
import type { BatchWriter } from './writer.ts'

/** Retained messages [MQTT-3.3.1-5]: one per topic, in SQLite, with the topics indexed in memory. */
export interface RetainedStore {
  /** Stores a copy of the packet; an empty payload removes the topic's message [MQTT-3.3.1-10]. */
  store(packet: Packet): Promise<void>
  /** Every retained message matching any of the filters, each once. */
  match(filters: readonly string[]): Promise<Packet[]>
  readonly count: number
}

interface Row {
  packet: string
  payload: Uint8Array | string | null
}

export function createRetainedStore(db: Database, writer: BatchWriter): RetainedStore {
  const upsert = db.query<void, [string, string, Uint8Array | string | null]>(
    `INSERT INTO mqtt_retained (topic, packet, payload) VALUES (?1, ?2, ?3)
     ON CONFLICT (topic) DO UPDATE SET packet = excluded.packet, payload = excluded.payload`,
  )
  const remove = db.query<void, [string]>('DELETE FROM mqtt_retained WHERE topic = ?1')
  const get = db.query<Row, [string]>('SELECT packet, payload FROM mqtt_retained WHERE topic = ?1')
  // The topic index: a SUBSCRIBE with wildcards scans topics in memory, not rows on disk.
  const topics = new Set(
    db
      .query<{ topic: string }, []>('SELECT topic FROM mqtt_retained ORDER BY rowid')
      .all()
      .map((r) => r.topic),
  )

  return {
    get count() {
      return topics.size
    },

    store(packet) {
      const topic = packet.topic as string
      const payload = packet.payload as { length: number } | undefined
      // Deferred (resolves before the commit): Aedes numbers a message before this call and
      // drops, per client, any message numbered below one it already delivered, so a wait here
      // would let a later message overtake this one and have it dropped. A QoS 1 message is
      // durable anyway: its journal entry (recovery.ts) is removed by an op queued after this.
      if (!payload || payload.length === 0) {
        return writer.defer(() => {
          remove.run(topic)
          topics.delete(topic)
        })
      }
      // Encoded now: the caller may change the packet once we return (the suite does).
      const e = encodePacket(packet)
      return writer.defer(() => {
        upsert.run(topic, e.packet, e.payload)
        topics.add(topic)
      })
    },

    match(filters) {
      const matcher = createFilterMatcher(filters)
      return writer.run(() => {
        // A message matching several filters of one SUBSCRIBE is sent once, not once per filter.
        const found = new Set<string>()
        for (const f of matcher.exact) if (topics.has(f)) found.add(f)
        if (matcher.wild) for (const t of topics) if (matcher.test(t)) found.add(t)
        const out: Packet[] = []
        for (const t of found) {
          const row = get.get(t)
          if (row) out.push(decodePacket(row.packet, row.payload))
        }
        return out
      })
    },
  }
}
