import type { Database } from 'bun:sqlite'
import type { AnyHubEvent, EventType } from '../bus/events.ts'
import type { Page } from '../util/page.ts'

export interface EventQuery {
  /** Exact types, or prefixes ending in `*` (`device.*`; `*` alone is every type). */
  types?: string[]
  subject?: string
  /** Any subject starting with this (the outbox's `<kind>:` subjects). */
  subjectPrefix?: string
  /** Inclusive lower bound, ms since the epoch. */
  from?: number
  /** Exclusive upper bound, ms since the epoch. */
  to?: number
  limit?: number
  /** From a previous page's `nextCursor`. */
  cursor?: string
}

interface EventRow {
  id: number
  ts: number
  type: string
  subject: string | null
  detail: string
}

/** Appends an event and returns its row id. */
export function insertEvent(db: Database, event: AnyHubEvent): number {
  const row = db
    .query('INSERT INTO events (ts, type, subject, detail) VALUES (?, ?, ?, ?) RETURNING id')
    .get(event.ts, event.type, event.subject ?? null, JSON.stringify(event.detail)) as { id: number }
  return row.id
}

/** The WHERE clause of a query's filters (no cursor), and its arguments. */
function filterOf(q: EventQuery): { where: string[]; args: (string | number)[] } {
  const where: string[] = []
  const args: (string | number)[] = []
  if (q.types?.length && !q.types.includes('*')) {
    const exact = q.types.filter((t) => !t.endsWith('*'))
    const either = exact.length ? [`type IN (${exact.map(() => '?').join(', ')})`] : []
    args.push(...exact)
    for (const t of q.types.filter((t) => t.endsWith('*'))) {
      either.push('(type >= ? AND type < ?)')
      args.push(...prefixRange(t.slice(0, -1)))
    }
    where.push(`(${either.join(' OR ')})`)
  }
  if (q.subject !== undefined) {
    where.push('subject = ?')
    args.push(q.subject)
  }
  if (q.subjectPrefix !== undefined) {
    where.push('subject >= ? AND subject < ?')
    args.push(...prefixRange(q.subjectPrefix))
  }
  if (q.from !== undefined) {
    where.push('ts >= ?')
    args.push(q.from)
  }
  if (q.to !== undefined) {
    where.push('ts < ?')
    args.push(q.to)
  }
  return { where, args }
}

// A prefix as a range keeps the (type, ts) and (subject, ts) indexes usable:
// 'fcm:' <= subject < 'fcm;'. Prefixes are never empty here ('*' alone filters nothing).
function prefixRange(p: string): [string, string] {
  return [p, p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1)]
}

/** Newest first, filtered, one page at a time (the cursor is the last id seen). */
export function queryEvents(db: Database, q: EventQuery = {}): Page<AnyHubEvent> {
  const { where, args } = filterOf(q)
  if (q.cursor !== undefined) {
    const before = Number.parseInt(q.cursor, 36)
    if (Number.isFinite(before)) {
      where.push('id < ?')
      args.push(before)
    }
  }
  const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000)
  const sql = `SELECT id, ts, type, subject, detail FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`
  const rows = db.query(sql).all(...args, limit + 1) as EventRow[]
  const more = rows.length > limit
  const items = rows.slice(0, limit).map(toEvent)
  const last = items.at(-1)
  return more && last?.id !== undefined ? { items, nextCursor: last.id.toString(36) } : { items }
}

/** The newest event (by time, so the (subject, ts) index answers it) that matches the filters. */
export function lastEvent(db: Database, q: Omit<EventQuery, 'limit' | 'cursor'>): AnyHubEvent | undefined {
  const { where, args } = filterOf(q)
  const row = db
    .query(
      `SELECT id, ts, type, subject, detail FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY ts DESC, id DESC LIMIT 1`,
    )
    .get(...args) as EventRow | null
  return row ? toEvent(row) : undefined
}

/** Deletes events older than `before` (ms); returns how many went. */
export function pruneEvents(db: Database, before: number): number {
  return db.query('DELETE FROM events WHERE ts < ?').run(before).changes
}

function toEvent(row: EventRow): AnyHubEvent {
  return {
    id: row.id,
    ts: row.ts,
    type: row.type as EventType,
    ...(row.subject !== null ? { subject: row.subject } : {}),
    detail: JSON.parse(row.detail),
  } as AnyHubEvent
}
