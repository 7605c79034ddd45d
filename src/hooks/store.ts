import type { Database } from 'bun:sqlite'
import type { Page } from '../util/page.ts'

/** What was published for a delivery. */
export interface PublishedRecord {
  topic: string
  payload: string
  encoding?: 'base64'
  qos: number
  retain: boolean
}

/** One captured delivery: headers, body up to a limit, verification, publish. */
export interface HookDelivery {
  id: number
  hook: string
  ts: number
  deliveryId: string | null
  contentType: string | null
  headers: Record<string, string>
  query: Record<string, string>
  /** The captured bytes: at most the capture limit. */
  body: Uint8Array
  /** The size of the whole body. */
  bodySize: number
  /** `ok (<method>)`, or why verification failed. */
  verification: string
  status: number
  code: number | null
  published: PublishedRecord | null
  replayOf: number | null
}

interface DeliveryRow {
  id: number
  hook: string
  ts: number
  delivery_id: string | null
  content_type: string | null
  headers: string
  query: string
  body: Uint8Array
  body_size: number
  verification: string
  status: number
  code: number | null
  published: string | null
  replay_of: number | null
}

const toDelivery = (r: DeliveryRow): HookDelivery => ({
  id: r.id,
  hook: r.hook,
  ts: r.ts,
  deliveryId: r.delivery_id,
  contentType: r.content_type,
  headers: JSON.parse(r.headers),
  query: JSON.parse(r.query),
  body: r.body,
  bodySize: r.body_size,
  verification: r.verification,
  status: r.status,
  code: r.code,
  published: r.published ? JSON.parse(r.published) : null,
  replayOf: r.replay_of,
})

export function insertDelivery(db: Database, d: Omit<HookDelivery, 'id'>): number {
  const row = db
    .query(
      `INSERT INTO hook_deliveries (hook, ts, delivery_id, content_type, headers, query, body, body_size,
         verification, status, code, published, replay_of)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    )
    .get(
      d.hook,
      d.ts,
      d.deliveryId,
      d.contentType,
      JSON.stringify(d.headers),
      JSON.stringify(d.query),
      d.body,
      d.bodySize,
      d.verification,
      d.status,
      d.code,
      d.published ? JSON.stringify(d.published) : null,
      d.replayOf,
    ) as { id: number }
  return row.id
}

export function getDelivery(db: Database, hook: string, id: number): HookDelivery | undefined {
  const row = db
    .query('SELECT * FROM hook_deliveries WHERE hook = ? AND id = ?')
    .get(hook, id) as DeliveryRow | null
  return row ? toDelivery(row) : undefined
}

/** Newest first; the cursor is the last id seen. */
export function listDeliveries(
  db: Database,
  hook: string,
  opts: { limit?: number; cursor?: number } = {},
): Page<HookDelivery> {
  const limit = Math.min(Math.max(opts.limit ?? 50, 1), 500)
  const rows = db
    .query('SELECT * FROM hook_deliveries WHERE hook = ? AND id < ? ORDER BY id DESC LIMIT ?')
    .all(hook, opts.cursor ?? Number.MAX_SAFE_INTEGER, limit + 1) as DeliveryRow[]
  const items = rows.slice(0, limit).map(toDelivery)
  const last = items.at(-1)
  return rows.length > limit && last ? { items, nextCursor: String(last.id) } : { items }
}

/** Remembers a delivery id; false when it was already there (a replay). */
export function rememberDeliveryId(db: Database, hook: string, id: string, ts: number): boolean {
  return (
    db.query('INSERT OR IGNORE INTO hook_seen (hook, delivery_id, ts) VALUES (?, ?, ?)').run(hook, id, ts)
      .changes > 0
  )
}

export function forgetDeliveryId(db: Database, hook: string, id: string): void {
  db.query('DELETE FROM hook_seen WHERE hook = ? AND delivery_id = ?').run(hook, id)
}

/** Drops deliveries and remembered ids older than the given times; returns how many rows went. */
export function pruneHookData(db: Database, deliveriesBefore: number, idsBefore: number): number {
  const a = db.query('DELETE FROM hook_deliveries WHERE ts < ?').run(deliveriesBefore).changes
  const b = db.query('DELETE FROM hook_seen WHERE ts < ?').run(idsBefore).changes
  return a + b
}
