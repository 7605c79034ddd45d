import type { Database } from 'bun:sqlite'

/** A target stored through the API: its definition as JSON, the secret apart. */
export interface StoredTarget {
  name: string
  definition: Record<string, unknown>
  secret: string | null
}

interface Row {
  name: string
  definition: string
  secret: string | null
}

const toTarget = (r: Row): StoredTarget => ({
  name: r.name,
  definition: JSON.parse(r.definition),
  secret: r.secret,
})

export function listStoredTargets(db: Database): StoredTarget[] {
  return (db.query('SELECT name, definition, secret FROM webhook_targets ORDER BY name').all() as Row[]).map(
    toTarget,
  )
}

export function getStoredTarget(db: Database, name: string): StoredTarget | undefined {
  const row = db
    .query('SELECT name, definition, secret FROM webhook_targets WHERE name = ?')
    .get(name) as Row | null
  return row ? toTarget(row) : undefined
}

export function saveStoredTarget(
  db: Database,
  name: string,
  definition: Record<string, unknown>,
  secret: string | null,
  now: number,
): void {
  db.query(
    `INSERT INTO webhook_targets (name, definition, secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, secret = excluded.secret,
       updated_at = excluded.updated_at`,
  ).run(name, JSON.stringify(definition), secret, now, now)
}

export function deleteStoredTarget(db: Database, name: string): boolean {
  return db.query('DELETE FROM webhook_targets WHERE name = ?').run(name).changes > 0
}
