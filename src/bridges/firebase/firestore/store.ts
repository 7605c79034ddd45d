import type { Database } from 'bun:sqlite'

type DocState = 'scheduled' | 'fired' | 'invalid'

/** A schedule document as last synced: the hub schedule it became, or why it did not. */
export interface DocRow {
  document: string
  scheduleId: string
  updateTime: string
  definitionHash: string | null
  oneShot: boolean
  state: DocState
  reason: string | null
  command: string | null
  syncedAt: number
}

interface Raw {
  document: string
  schedule_id: string
  update_time: string
  definition_hash: string | null
  one_shot: number
  state: DocState
  reason: string | null
  command: string | null
  synced_at: number
}

const toRow = (r: Raw): DocRow => ({
  document: r.document,
  scheduleId: r.schedule_id,
  updateTime: r.update_time,
  definitionHash: r.definition_hash,
  oneShot: r.one_shot === 1,
  state: r.state,
  reason: r.reason,
  command: r.command,
  syncedAt: r.synced_at,
})

export function listDocs(db: Database): DocRow[] {
  return (db.query('SELECT * FROM firebase_schedule_docs ORDER BY document').all() as Raw[]).map(toRow)
}

export function getDocBySchedule(db: Database, scheduleId: string): DocRow | undefined {
  const r = db
    .query('SELECT * FROM firebase_schedule_docs WHERE schedule_id = ?')
    .get(scheduleId) as Raw | null
  return r ? toRow(r) : undefined
}

export function saveDoc(db: Database, row: DocRow): void {
  db.query(
    `INSERT INTO firebase_schedule_docs
       (document, schedule_id, update_time, definition_hash, one_shot, state, reason, command, synced_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (document) DO UPDATE SET schedule_id = excluded.schedule_id, update_time = excluded.update_time,
       definition_hash = excluded.definition_hash, one_shot = excluded.one_shot, state = excluded.state,
       reason = excluded.reason, command = excluded.command, synced_at = excluded.synced_at`,
  ).run(
    row.document,
    row.scheduleId,
    row.updateTime,
    row.definitionHash,
    row.oneShot ? 1 : 0,
    row.state,
    row.reason,
    row.command,
    row.syncedAt,
  )
}

export function setDocState(db: Database, document: string, state: DocState, at: number): void {
  db.query('UPDATE firebase_schedule_docs SET state = ?, synced_at = ? WHERE document = ?').run(
    state,
    at,
    document,
  )
}

export function deleteDoc(db: Database, document: string): void {
  db.query('DELETE FROM firebase_schedule_docs WHERE document = ?').run(document)
}
