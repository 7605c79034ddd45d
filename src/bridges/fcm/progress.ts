import type { Database } from 'bun:sqlite'
import type { PushPauseView } from './views.ts'

/** A token's final result within one batch. `skipped`: it was unregistered before its turn. */
type FinalStatus = 'sent' | 'dead' | 'failed' | 'skipped'

export interface TokenFinal {
  token: string
  status: FinalStatus
  error?: string | undefined
}

/** Final results of a batch so far, by token. */
export function batchProgress(db: Database, batch: string): Map<string, TokenFinal> {
  const rows = db
    .query('SELECT token, status, error FROM push_progress WHERE batch = ?')
    .all(batch) as Array<{
    token: string
    status: FinalStatus
    error: string | null
  }>
  return new Map(
    rows.map((r) => [r.token, { token: r.token, status: r.status, error: r.error ?? undefined }]),
  )
}

export function recordProgress(
  db: Database,
  batch: string,
  results: readonly TokenFinal[],
  now: number,
): void {
  const insert = db.query(
    'INSERT OR REPLACE INTO push_progress (batch, token, status, error, at) VALUES (?, ?, ?, ?, ?)',
  )
  db.transaction(() => {
    for (const r of results) insert.run(batch, r.token, r.status, r.error ?? null, now)
  })()
}

export function clearProgress(db: Database, batch: string): void {
  db.query('DELETE FROM push_progress WHERE batch = ?').run(batch)
}

/** Progress of batches the outbox gave up on long ago (their keys are gone from the outbox). */
export function pruneProgress(db: Database, olderThan: number): number {
  return db
    .query(
      `DELETE FROM push_progress WHERE at < ? AND batch NOT IN (SELECT key FROM outbox WHERE kind = 'fcm')`,
    )
    .run(olderThan).changes
}

export type PushPause = PushPauseView

export function getPause(db: Database, target: string): PushPause | undefined {
  const row = db.query('SELECT target, reason, paused_at FROM push_pauses WHERE target = ?').get(target) as {
    target: string
    reason: string
    paused_at: number
  } | null
  return row ? { target: row.target, reason: row.reason, pausedAt: row.paused_at } : undefined
}

export function listPauses(db: Database): PushPause[] {
  return (
    db.query('SELECT target, reason, paused_at FROM push_pauses ORDER BY paused_at').all() as Array<{
      target: string
      reason: string
      paused_at: number
    }>
  ).map((r) => ({ target: r.target, reason: r.reason, pausedAt: r.paused_at }))
}

/** Pauses a target; false when it was already paused (the first reason stays). */
export function pauseTarget(db: Database, target: string, reason: string, now: number): boolean {
  return (
    db
      .query('INSERT INTO push_pauses (target, reason, paused_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
      .run(target, reason, now).changes > 0
  )
}

export function resumeTarget(db: Database, target: string): boolean {
  return db.query('DELETE FROM push_pauses WHERE target = ?').run(target).changes > 0
}
