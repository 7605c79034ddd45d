import type { Database } from 'bun:sqlite'
import { type Rule, ruleSchema } from './schema.ts'

interface RuleRow {
  id: string
  definition: string
  created_at: number
  updated_at: number
}

/** Rules created through the API. A stored definition that no longer parses is reported, not dropped. */
export function listStoredRules(db: Database): {
  rules: Rule[]
  invalid: Array<{ id: string; error: string }>
} {
  const rows = db.query('SELECT * FROM rules ORDER BY id').all() as RuleRow[]
  const rules: Rule[] = []
  const invalid: Array<{ id: string; error: string }> = []
  for (const row of rows) {
    const parsed = ruleSchema.safeParse({ ...JSON.parse(row.definition), id: row.id })
    if (parsed.success) rules.push(parsed.data)
    else
      invalid.push({
        id: row.id,
        error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      })
  }
  return { rules, invalid }
}

/** Creates or replaces a rule; returns whether it existed before. */
export function saveRule(db: Database, id: string, definition: unknown, now = Date.now()): boolean {
  const existed = db.query('SELECT 1 FROM rules WHERE id = ?').get(id) !== null
  db.query(
    `INSERT INTO rules (id, definition, created_at, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`,
  ).run(id, JSON.stringify(definition), now, now)
  return existed
}

export function deleteRule(db: Database, id: string): boolean {
  return db.query('DELETE FROM rules WHERE id = ?').run(id).changes > 0
}
