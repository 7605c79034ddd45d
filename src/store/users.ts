import type { Database } from 'bun:sqlite'
import type { UserView } from './schema.ts'

export type User = UserView

interface UserRow {
  id: number
  username: string
  role: string
  created_at: number
  password_hash: string
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  role: r.role,
  createdAt: r.created_at,
})

export async function createUser(
  db: Database,
  username: string,
  password: string,
  role = 'admin',
  now = Date.now(),
) {
  const hash = await Bun.password.hash(password, { algorithm: 'argon2id' })
  const row = db
    .query('INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?) RETURNING *')
    .get(username, hash, role, now) as UserRow
  return toUser(row)
}

export function countUsers(db: Database): number {
  return (db.query('SELECT count(*) AS n FROM users').get() as { n: number }).n
}

export function listUsers(db: Database): User[] {
  return (db.query('SELECT * FROM users ORDER BY username').all() as UserRow[]).map(toUser)
}

export function findUser(db: Database, username: string): User | undefined {
  const row = db.query('SELECT * FROM users WHERE username = ?').get(username) as UserRow | null
  return row ? toUser(row) : undefined
}

/** The user when the password matches; argon2id verification is deliberately slow. */
export async function verifyUser(
  db: Database,
  username: string,
  password: string,
): Promise<User | undefined> {
  const row = db.query('SELECT * FROM users WHERE username = ?').get(username) as UserRow | null
  // Verify against a stand-in hash for unknown names so timing does not tell which names exist.
  const ok = await Bun.password.verify(password, row?.password_hash ?? DECOY_HASH)
  return row && ok ? toUser(row) : undefined
}

/** argon2id of a random string nobody knows, with the same cost as real hashes. */
const DECOY_HASH =
  '$argon2id$v=19$m=65536,t=2,p=1$LySZXaG/qRSl2mWoDTS9XJ4csgmZcEb757W07lNfw0Y$tG82LDZaUznVTnNcJdC3lvIsRv6rtAW4dfXrsuE4GB8'

export async function setPassword(db: Database, username: string, password: string): Promise<boolean> {
  const hash = await Bun.password.hash(password, { algorithm: 'argon2id' })
  return db.query('UPDATE users SET password_hash = ? WHERE username = ?').run(hash, username).changes > 0
}

export function deleteUser(db: Database, username: string): boolean {
  return db.query('DELETE FROM users WHERE username = ?').run(username).changes > 0
}

export function setRole(db: Database, username: string, role: string): boolean {
  return db.query('UPDATE users SET role = ? WHERE username = ?').run(role, username).changes > 0
}

export function countAdmins(db: Database): number {
  return (db.query("SELECT count(*) AS n FROM users WHERE role = 'admin'").get() as { n: number }).n
}
