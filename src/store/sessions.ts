import type { Database } from 'bun:sqlite'
import { randomSecret, sha256 } from './tokens.ts'

/** A live console session joined with its user. */
export interface Session {
  userId: number
  username: string
  role: string
  csrfToken: string
  createdAt: number
  expiresAt: number
}

interface SessionRow {
  user_id: number
  username: string
  role: string
  csrf_token: string
  created_at: number
  expires_at: number
}

/** Starts a session; the returned `token` goes into the cookie and is never stored. */
export function createSession(
  db: Database,
  userId: number,
  ttlMs: number,
  now = Date.now(),
): { token: string; csrfToken: string; expiresAt: number } {
  const token = randomSecret()
  const csrfToken = randomSecret()
  const expiresAt = now + ttlMs
  db.query(
    'INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
  ).run(sha256(token), userId, csrfToken, now, expiresAt)
  return { token, csrfToken, expiresAt }
}

/** The session of a cookie token, unless it expired. */
export function findSession(db: Database, token: string, now = Date.now()): Session | undefined {
  const row = db
    .query(
      `SELECT s.user_id, u.username, u.role, s.csrf_token, s.created_at, s.expires_at
       FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = ? AND s.expires_at > ?`,
    )
    .get(sha256(token), now) as SessionRow | null
  if (!row) return undefined
  return {
    userId: row.user_id,
    username: row.username,
    role: row.role,
    csrfToken: row.csrf_token,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  }
}

export function deleteSession(db: Database, token: string): boolean {
  return db.query('DELETE FROM sessions WHERE token_hash = ?').run(sha256(token)).changes > 0
}

/** Ends every session of a user (after a password change), but the one of `keepToken` when given. */
export function deleteUserSessions(db: Database, userId: number, keepToken?: string): number {
  if (keepToken === undefined) return db.query('DELETE FROM sessions WHERE user_id = ?').run(userId).changes
  return db.query('DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?').run(userId, sha256(keepToken))
    .changes
}

export function pruneSessions(db: Database, now = Date.now()): number {
  return db.query('DELETE FROM sessions WHERE expires_at <= ?').run(now).changes
}
