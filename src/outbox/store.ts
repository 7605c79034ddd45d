import type { Database } from 'bun:sqlite'
import type { Page } from '../util/page.ts'
import { pageOf, pageSize, SqlFilter } from '../util/sql.ts'
import type { DeliveryState, OutboxEntry } from './types.ts'

interface Row {
  id: number
  kind: string
  target: string
  key: string
  payload: string
  state: string
  attempts: number
  created_at: number
  next_at: number
  expires_at: number
  updated_at: number
  last_error: string | null
  last_status: number | null
  dead_reason: string | null
}

const toEntry = (r: Row): OutboxEntry => ({
  id: r.id,
  kind: r.kind,
  target: r.target,
  key: r.key,
  payload: JSON.parse(r.payload),
  state: r.state as DeliveryState,
  attempts: r.attempts,
  createdAt: r.created_at,
  nextAt: r.next_at,
  expiresAt: r.expires_at,
  updatedAt: r.updated_at,
  lastError: r.last_error,
  lastStatus: r.last_status,
  deadReason: r.dead_reason,
})

interface NewEntry {
  kind: string
  target: string
  key: string
  payload: unknown
  now: number
  expiresAt: number
}

/** Inserts entries in one transaction; an existing (kind, target, key) keeps its row. Returns ids in order. */
export function insertEntries(db: Database, entries: readonly NewEntry[]): number[] {
  const insert = db.query(
    `INSERT INTO outbox (kind, target, key, payload, created_at, next_at, expires_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, target, key) DO NOTHING RETURNING id`,
  )
  const existing = db.query('SELECT id FROM outbox WHERE kind = ? AND target = ? AND key = ?')
  return db.transaction(() =>
    entries.map((e) => {
      const row = (insert.get(
        e.kind,
        e.target,
        e.key,
        JSON.stringify(e.payload),
        e.now,
        e.now,
        e.expiresAt,
        e.now,
      ) ?? existing.get(e.kind, e.target, e.key)) as { id: number }
      return row.id
    }),
  )()
}

/** Targets with entries due now, with how many. */
export function dueTargets(db: Database, now: number): Array<{ kind: string; target: string; n: number }> {
  return db
    .query(
      `SELECT kind, target, count(*) AS n FROM outbox WHERE state = 'pending' AND next_at <= ?
       GROUP BY kind, target`,
    )
    .all(now) as Array<{ kind: string; target: string; n: number }>
}

/** Marks up to `limit` due entries of one target as sending (one more attempt) and returns them. */
export function claimDue(
  db: Database,
  kind: string,
  target: string,
  now: number,
  limit: number,
): OutboxEntry[] {
  return db.transaction(() => {
    const rows = db
      .query(
        `UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at = ?
         WHERE id IN (SELECT id FROM outbox WHERE kind = ? AND target = ? AND state = 'pending' AND next_at <= ?
                      ORDER BY next_at, id LIMIT ?)
         RETURNING *`,
      )
      .all(now, kind, target, now, limit) as Row[]
    return rows.map(toEntry).sort((a, b) => a.id - b.id)
  })()
}

/** Pending entries past their age move to the dead letters; returns them. */
export function expireOld(db: Database, now: number): OutboxEntry[] {
  return (
    db
      .query(
        `UPDATE outbox SET state = 'dead', dead_reason = 'expired', updated_at = ?
         WHERE state = 'pending' AND expires_at <= ? RETURNING *`,
      )
      .all(now, now) as Row[]
  ).map(toEntry)
}

/** The earliest time after `now` an entry becomes due. */
export function nextDueAfter(db: Database, now: number): number | undefined {
  const row = db
    .query(`SELECT min(next_at) AS t FROM outbox WHERE state = 'pending' AND next_at > ?`)
    .get(now) as {
    t: number | null
  }
  return row.t ?? undefined
}

/** Entries a stopped or killed hub left in flight become due again (the attempt counts). */
export function resetSending(db: Database, now: number): number {
  return db.query(`UPDATE outbox SET state = 'pending', next_at = ? WHERE state = 'sending'`).run(now).changes
}

export function deleteEntry(db: Database, id: number): boolean {
  return db.query('DELETE FROM outbox WHERE id = ?').run(id).changes > 0
}

export function markRetry(
  db: Database,
  id: number,
  f: { nextAt: number; error: string; status: number | null; now: number },
): void {
  db.query(
    `UPDATE outbox SET state = 'pending', next_at = ?, last_error = ?, last_status = ?, updated_at = ? WHERE id = ?`,
  ).run(f.nextAt, f.error, f.status, f.now, id)
}

/** An attempt that was cut short by a stop is not counted. */
export function unclaim(db: Database, id: number, now: number): void {
  db.query(
    `UPDATE outbox SET state = 'pending', attempts = max(attempts - 1, 0), next_at = ?, updated_at = ?
     WHERE id = ? AND state = 'sending'`,
  ).run(now, now, id)
}

export function markDead(
  db: Database,
  id: number,
  f: { reason: string; error: string | null; status: number | null; now: number },
): void {
  db.query(
    `UPDATE outbox SET state = 'dead', dead_reason = ?, last_error = coalesce(?, last_error),
       last_status = coalesce(?, last_status), updated_at = ? WHERE id = ?`,
  ).run(f.reason, f.error, f.status, f.now, id)
}

export function getEntry(db: Database, id: number): OutboxEntry | undefined {
  const row = db.query('SELECT * FROM outbox WHERE id = ?').get(id) as Row | null
  return row ? toEntry(row) : undefined
}

export interface EntryQuery {
  /** Any of these states; every state when absent. */
  states?: DeliveryState[]
  kind?: string
  target?: string
  limit?: number
  /** The last id of the previous page. */
  cursor?: number
}

/** Oldest first (the order they are delivered in), one page at a time. */
export function listEntries(db: Database, q: EntryQuery = {}): Page<OutboxEntry> {
  const filter = new SqlFilter().add('id > ?', q.cursor ?? 0)
  if (q.states?.length) filter.add(`state IN (${q.states.map(() => '?').join(', ')})`, ...q.states)
  // An empty kind or target (`?kind=`) filters nothing.
  filter.equals('kind', q.kind || undefined).equals('target', q.target || undefined)
  const size = pageSize(q.limit)
  const rows = db
    .query(`SELECT * FROM outbox ${filter.where()} ORDER BY id LIMIT ?`)
    .all(...filter.args, size + 1) as Row[]
  return pageOf(rows, size, toEntry, (last) => String(last.id))
}

/** Dead letters back to pending with a fresh budget of attempts and age. Returns how many. */
export function revive(
  db: Database,
  where: { id?: number; kind?: string; target?: string },
  now: number,
  maxAgeMs: number,
): number {
  const filter = new SqlFilter()
    .add(`state = 'dead'`)
    .equals('id', where.id)
    .equals('kind', where.kind || undefined)
    .equals('target', where.target || undefined)
  return db
    .query(
      `UPDATE outbox SET state = 'pending', attempts = 0, next_at = ?, expires_at = ?, dead_reason = NULL,
         updated_at = ? ${filter.where()}`,
    )
    .run(now, now + maxAgeMs, now, ...filter.args).changes
}

export function countByState(db: Database): Record<DeliveryState, number> {
  const out: Record<DeliveryState, number> = { pending: 0, sending: 0, dead: 0 }
  for (const r of db.query('SELECT state, count(*) AS n FROM outbox GROUP BY state').all() as Array<{
    state: DeliveryState
    n: number
  }>)
    out[r.state] = r.n
  return out
}

/** Entries still to deliver (pending or sending) and dead letters, per kind and target. */
interface TargetCounts {
  kind: string
  target: string
  pending: number
  dead: number
}

export function countByTarget(db: Database): TargetCounts[] {
  return db
    .query(
      `SELECT kind, target, sum(state != 'dead') AS pending, sum(state = 'dead') AS dead
       FROM outbox GROUP BY kind, target ORDER BY kind, target`,
    )
    .all() as TargetCounts[]
}
