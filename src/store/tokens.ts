import type { Database } from 'bun:sqlite'
import type { Scope, TokenView } from './schema.ts'

/** A URL-safe random secret with `bytes` bytes of entropy. */
export function randomSecret(bytes = 32): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('base64url')
}

/** Hex sha256: enough for high-entropy secrets, which need no slow hash. */
export function sha256(text: string): string {
  return new Bun.CryptoHasher('sha256').update(text).digest('hex')
}

export type TokenScope = Scope

/** Every API token starts with this, so secret scanners and people can tell what it is. */
const TOKEN_PREFIX = 'hth_'

/** An API token as listed: never the secret itself. */
export type ApiToken = TokenView

interface TokenRow {
  id: string
  name: string
  scope: TokenScope
  prefix: string
  created_by: string | null
  created_at: number
  last_used_at: number | null
  device: string | null
}

const toToken = (r: TokenRow): ApiToken => ({
  id: r.id,
  name: r.name,
  scope: r.scope,
  prefix: r.prefix,
  createdBy: r.created_by,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  device: r.device,
})

const COLUMNS = 'id, name, scope, prefix, created_by, created_at, last_used_at, device'

/** Mints a token. The returned `secret` is shown once; only its hash is kept. */
export function createToken(
  db: Database,
  input: { name: string; scope: TokenScope; createdBy?: string; device?: string },
  now = Date.now(),
): { token: ApiToken; secret: string } {
  const secret = TOKEN_PREFIX + randomSecret()
  const id = `tok_${randomSecret(9)}`
  const row = db
    .query(
      `INSERT INTO api_tokens (id, name, scope, token_hash, prefix, created_by, created_at, device)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
    )
    .get(
      id,
      input.name,
      input.scope,
      sha256(secret),
      secret.slice(0, 10),
      input.createdBy ?? null,
      now,
      input.device ?? null,
    ) as TokenRow
  return { token: toToken(row), secret }
}

export function listTokens(db: Database): ApiToken[] {
  return (db.query(`SELECT ${COLUMNS} FROM api_tokens ORDER BY created_at, id`).all() as TokenRow[]).map(
    toToken,
  )
}

export function getToken(db: Database, id: string): ApiToken | undefined {
  const row = db.query(`SELECT ${COLUMNS} FROM api_tokens WHERE id = ?`).get(id) as TokenRow | null
  return row ? toToken(row) : undefined
}

/** The token a bearer secret belongs to. */
export function findTokenBySecret(db: Database, secret: string): ApiToken | undefined {
  if (!secret.startsWith(TOKEN_PREFIX)) return undefined
  const row = db
    .query(`SELECT ${COLUMNS} FROM api_tokens WHERE token_hash = ?`)
    .get(sha256(secret)) as TokenRow | null
  return row ? toToken(row) : undefined
}

export function revokeToken(db: Database, id: string): boolean {
  return db.query('DELETE FROM api_tokens WHERE id = ?').run(id).changes > 0
}

/** Records use at most once per `everyMs`, so a busy token does not write on every request. */
export function touchToken(db: Database, token: ApiToken, now = Date.now(), everyMs = 60_000): boolean {
  if (token.lastUsedAt !== null && now - token.lastUsedAt < everyMs) return false
  db.query('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(now, token.id)
  return true
}
