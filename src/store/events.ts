import type { Database } from 'bun:sqlite'
import type { AnyHubEvent, EventType } from '../bus/events.ts'
import type { Page } from '../util/page.ts'
import { pageOf, pageSize, type SqlArg, SqlFilter } from '../util/sql.ts'

interface EventQuery {
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
function filterOf(q: EventQuery): SqlFilter {
  const filter = new SqlFilter()
  if (q.types?.length && !q.types.includes('*')) {
    const exact = q.types.filter((t) => !t.endsWith('*'))
    const either = exact.length ? [`type IN (${exact.map(() => '?').join(', ')})`] : []
    const args: SqlArg[] = [...exact]
    for (const t of q.types.filter((t) => t.endsWith('*'))) {
      either.push('(type >= ? AND type < ?)')
      args.push(...prefixRange(t.slice(0, -1)))
    }
    filter.add(`(${either.join(' OR ')})`, ...args)
  }
  filter.equals('subject', q.subject)
  if (q.subjectPrefix !== undefined)
    filter.add('subject >= ? AND subject < ?', ...prefixRange(q.subjectPrefix))
  if (q.from !== undefined) filter.add('ts >= ?', q.from)
  if (q.to !== undefined) filter.add('ts < ?', q.to)
  return filter
}

// A prefix as a range keeps the (type, ts) and (subject, ts) indexes usable:
// 'fcm:' <= subject < 'fcm;'. Prefixes are never empty here ('*' alone filters nothing).
function prefixRange(p: string): [string, string] {
  return [p, p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1)]
}

/** Newest first, filtered, one page at a time (the cursor is the last id seen). */
export function queryEvents(db: Database, q: EventQuery = {}): Page<AnyHubEvent> {
  const filter = filterOf(q)
  if (q.cursor !== undefined) {
    const before = Number.parseInt(q.cursor, 36)
    if (Number.isFinite(before)) filter.add('id < ?', before)
  }
  const size = pageSize(q.limit)
  const sql = `SELECT id, ts, type, subject, detail FROM events ${filter.where()} ORDER BY id DESC LIMIT ?`
  const rows = db.query(sql).all(...filter.args, size + 1) as EventRow[]
  return pageOf(rows, size, toEvent, (last) => last.id?.toString(36))
}

/** The newest event (by time, so the (subject, ts) index answers it) that matches the filters. */
export function lastEvent(db: Database, q: Omit<EventQuery, 'limit' | 'cursor'>): AnyHubEvent | undefined {
  const filter = filterOf(q)
  const row = db
    .query(
      `SELECT id, ts, type, subject, detail FROM events ${filter.where()} ORDER BY ts DESC, id DESC LIMIT 1`,
    )
    .get(...filter.args) as EventRow | null
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
