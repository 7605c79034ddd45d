import type { Database } from 'bun:sqlite'
import { createHash } from 'node:crypto'
import { z } from 'zod'
import type { Page } from '../../util/page.ts'
import { pageOf, pageSize, SqlFilter } from '../../util/sql.ts'
import { PLATFORMS, type Platform } from './message.ts'

const labelSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'a label is 1-64 letters, digits, "_", ".", ":" or "-"')

/** Body of `POST /api/v1/push/tokens`. */
export const tokenRegistrationSchema = z.strictObject({
  token: z
    .string()
    .min(8)
    .max(4096)
    .regex(/^[^\s]+$/, 'a registration token has no whitespace')
    .describe('the FCM registration token the app got from the Firebase SDK'),
  platform: z.enum(PLATFORMS),
  device: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe('the Hearth device this phone is (device credentials set it)'),
  user: z.string().min(1).max(200).optional(),
  labels: z.array(labelSchema).max(32).default([]),
})
type TokenRegistration = z.infer<typeof tokenRegistrationSchema>

/** A registered token as the API shows it. */
export interface PushToken {
  /** Short hash of the token: what URLs, events and logs use. */
  id: string
  token: string
  platform: Platform
  device: string | null
  user: string | null
  labels: string[]
  createdAt: number
  /** Last registration of the same token: apps re-register to show the token is still theirs. */
  updatedAt: number
  lastSuccessAt: number | null
  lastFailureAt: number | null
  lastError: string | null
  /** Failed sends since the last success. */
  failures: number
}

interface Row {
  token: string
  id: string
  platform: string
  device_id: string | null
  user: string | null
  labels: string
  created_at: number
  updated_at: number
  last_success_at: number | null
  last_failure_at: number | null
  last_error: string | null
  failures: number
}

const toToken = (r: Row): PushToken => ({
  id: r.id,
  token: r.token,
  platform: r.platform as Platform,
  device: r.device_id,
  user: r.user,
  labels: JSON.parse(r.labels),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  lastSuccessAt: r.last_success_at,
  lastFailureAt: r.last_failure_at,
  lastError: r.last_error,
  failures: r.failures,
})

/** The id of a token: 16 hex digits of its SHA-256. */
export function pushTokenId(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16)
}

/** Registers a token, or refreshes the one already registered (a re-registration replaces its fields). */
export function registerPushToken(
  db: Database,
  input: TokenRegistration,
  now: number,
): { token: PushToken; created: boolean } {
  return db.transaction(() => {
    const existed = db.query('SELECT 1 FROM push_tokens WHERE token = ?').get(input.token) !== null
    const labels = [...new Set(input.labels)].sort()
    db.query(
      `INSERT INTO push_tokens (token, id, platform, device_id, user, labels, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (token) DO UPDATE SET platform = excluded.platform, device_id = excluded.device_id,
         user = excluded.user, labels = excluded.labels, updated_at = excluded.updated_at`,
    ).run(
      input.token,
      pushTokenId(input.token),
      input.platform,
      input.device ?? null,
      input.user ?? null,
      JSON.stringify(labels),
      now,
      now,
    )
    db.query('DELETE FROM push_token_labels WHERE token = ?').run(input.token)
    const addLabel = db.query('INSERT INTO push_token_labels (label, token) VALUES (?, ?)')
    for (const label of labels) addLabel.run(label, input.token)
    return { token: getPushToken(db, input.token)!, created: !existed }
  })()
}

/** A token by its id or by the token itself. */
export function getPushToken(db: Database, idOrToken: string): PushToken | undefined {
  const row = db
    .query('SELECT * FROM push_tokens WHERE id = ? OR token = ?')
    .get(idOrToken, idOrToken) as Row | null
  return row ? toToken(row) : undefined
}

export interface TokenQuery {
  device?: string | undefined
  user?: string | undefined
  label?: string | undefined
  platform?: Platform | undefined
  cursor?: string | undefined
  limit?: number | undefined
}

/** Tokens oldest first, a page at a time; the cursor is `<createdAt>:<id>` of the last one. */
export function listPushTokens(db: Database, q: TokenQuery = {}): Page<PushToken> {
  const filter = new SqlFilter()
    .equals('device_id', q.device)
    .equals('user', q.user)
    .equals('platform', q.platform)
  if (q.label !== undefined)
    filter.add('token IN (SELECT token FROM push_token_labels WHERE label = ?)', q.label)
  const cursor = /^(\d+):([0-9a-f]+)$/.exec(q.cursor ?? '')
  if (cursor) filter.add('(created_at, id) > (?, ?)', Number(cursor[1]), cursor[2]!)
  const size = pageSize(q.limit)
  const rows = db
    .query(`SELECT * FROM push_tokens ${filter.where()} ORDER BY created_at, id LIMIT ?`)
    .all(...filter.args, size + 1) as Row[]
  return pageOf(rows, size, toToken, (last) => `${last.createdAt}:${last.id}`)
}

export function countPushTokens(db: Database): number {
  return (db.query('SELECT count(*) AS n FROM push_tokens').get() as { n: number }).n
}

/** Removes tokens (by token); returns the ids of those that were there. */
export function removePushTokens(db: Database, tokens: readonly string[]): string[] {
  if (!tokens.length) return []
  return (
    db
      .query('DELETE FROM push_tokens WHERE token IN (SELECT value FROM json_each(?)) RETURNING id')
      .all(JSON.stringify(tokens)) as { id: string }[]
  ).map((r) => r.id)
}

/** A token to send to, with what the registry knows of its platform (null: given by hand, unknown). */
export interface Recipient {
  token: string
  platform: Platform | null
}

/** Every token of a device, a label, a user or all, oldest first. */
export function recipientsWhere(
  db: Database,
  where: { all: true } | { device: string } | { devices: readonly string[] } | { label: string },
): Recipient[] {
  const [sql, args]: [string, string[]] =
    'all' in where
      ? ['', []]
      : 'device' in where
        ? ['WHERE device_id = ?', [where.device]]
        : 'devices' in where
          ? ['WHERE device_id IN (SELECT value FROM json_each(?))', [JSON.stringify(where.devices)]]
          : ['WHERE token IN (SELECT token FROM push_token_labels WHERE label = ?)', [where.label]]
  return db
    .query(`SELECT token, platform FROM push_tokens ${sql} ORDER BY created_at, id`)
    .all(...args) as Recipient[]
}

/** The registry's platform of each token; tokens it does not know are absent. */
export function platformsOf(db: Database, tokens: readonly string[]): Map<string, Platform> {
  const rows = db
    .query('SELECT token, platform FROM push_tokens WHERE token IN (SELECT value FROM json_each(?))')
    .all(JSON.stringify(tokens)) as Array<{ token: string; platform: Platform }>
  return new Map(rows.map((r) => [r.token, r.platform]))
}

/** Records send results on the tokens, in one transaction. */
export function recordPushResults(
  db: Database,
  results: ReadonlyArray<{ token: string; ok: boolean; error?: string | undefined }>,
  now: number,
): void {
  const ok = db.query('UPDATE push_tokens SET last_success_at = ?, failures = 0 WHERE token = ?')
  const failed = db.query(
    'UPDATE push_tokens SET last_failure_at = ?, last_error = ?, failures = failures + 1 WHERE token = ?',
  )
  db.transaction(() => {
    for (const r of results) {
      if (r.ok) ok.run(now, r.token)
      else failed.run(now, r.error ?? null, r.token)
    }
  })()
}
