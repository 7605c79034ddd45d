import type { Database } from 'bun:sqlite'
import type { z } from 'zod'
import { describeIssues, Errors } from '../errors.ts'
import type { Logger } from '../log.ts'

// Items defined in the config file or through the API (hooks, webhook targets, rules, schedules)
// merge by one rule, described in docs/definitions.md: the config file's id wins, and the API
// answers 409 for it.

/** A row as stored: the definition as JSON text, parsed again with the kind's schema on every read. */
export interface StoredRow {
  id: string
  definition: string
  secret: string | null
  createdAt: number
  updatedAt: number
}

/** A stored row that no longer parses: listed with its error and kept until the API replaces or deletes it. */
export interface InvalidDefinition {
  id: string
  error: string
}

/** An item in effect: the config file's as written there, an API one as parsed from its row. */
export type DefinitionItem<C, S = C> =
  | { id: string; source: 'config'; definition: C }
  | { id: string; source: 'api'; definition: S; row: StoredRow }

interface DefinitionListing<C, S = C> {
  /** The config file's items in its order, then the API's by id; the config file's where both define an id. */
  items: DefinitionItem<C, S>[]
  /** Stored ids the config file also defines: kept, unused while the config file defines them. */
  shadowed: string[]
  invalid: InvalidDefinition[]
}

/** Where a kind's API items are kept. */
interface DefinitionRows {
  list(): StoredRow[]
  get(id: string): StoredRow | undefined
}

interface DefinitionRegistryOptions<C, S> {
  /** How messages name one (`hook`, `rule`). */
  noun: string
  config: readonly C[]
  idOf: (item: C) => string
  /** Parses a stored definition again (today's defaults and checks apply to rows an older build wrote). */
  schema: z.ZodType<S>
  /** What the schema parses for a row, e.g. the row's id put back into the definition. */
  prepare?: (definition: Record<string, unknown>, row: StoredRow) => unknown
  rows: DefinitionRows
  log?: Logger | undefined
}

export interface DefinitionRegistry<C, S = C> {
  readonly noun: string
  list(): DefinitionListing<C, S>
  /** The item in effect for an id; a stored row that does not parse is not in effect. */
  get(id: string): DefinitionItem<C, S> | undefined
  /** A stored row parsed, whether or not the config file shadows it. */
  stored(id: string): { row: StoredRow; definition?: S; error?: string } | undefined
  configDefines(id: string): boolean
  /** Throws the 409 the API answers for an id the config file defines. */
  refuseConfigDefined(id: string): void
  config(): readonly C[]
  /** Replaces the config file's items (a config reload); notifies and answers the ids added, changed or removed. */
  setConfig(config: readonly C[]): string[]
  /** Tells subscribers an id changed (after an API write). */
  notify(id: string): void
  onChange(fn: (id: string) => void): () => void
}

/** The one config-plus-API mechanism: config items, stored rows re-parsed, one precedence rule. */
export function createDefinitionRegistry<C, S = C>(
  opts: DefinitionRegistryOptions<C, S>,
): DefinitionRegistry<C, S> {
  const { noun, idOf } = opts
  let configured = new Map(opts.config.map((c) => [idOf(c), c]))
  const listeners = new Set<(id: string) => void>()
  // A row is reported once per version, not on every read.
  const reported = new Set<string>()

  // The last parse per id, reused while the row is unchanged: outbox deliveries and hook requests
  // read their target or hook by id on every call, and the schema need not run again for them.
  const parsedRows = new Map<
    string,
    { updatedAt: number; text: string; result: { definition?: S; error?: string } }
  >()

  const parse = (row: StoredRow): { definition?: S; error?: string } => {
    const cached = parsedRows.get(row.id)
    if (cached && cached.updatedAt === row.updatedAt && cached.text === row.definition) return cached.result
    const result = parseRow(row)
    parsedRows.set(row.id, { updatedAt: row.updatedAt, text: row.definition, result })
    return result
  }

  const parseRow = (row: StoredRow): { definition?: S; error?: string } => {
    let json: unknown
    try {
      json = JSON.parse(row.definition)
    } catch {
      return report(row, 'the stored definition is not JSON')
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json))
      return report(row, 'the stored definition is not a JSON object')
    const parsed = opts.schema.safeParse(
      opts.prepare ? opts.prepare(json as Record<string, unknown>, row) : json,
    )
    if (parsed.success) return { definition: parsed.data }
    return report(
      row,
      describeIssues(parsed.error)
        .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
        .join('; '),
    )
  }

  const report = (row: StoredRow, error: string) => {
    const key = `${row.id}\u0000${row.updatedAt}\u0000${error}`
    if (!reported.has(key)) {
      reported.add(key)
      opts.log?.error(`stored ${noun} does not parse; kept, listed as invalid and not used`, {
        id: row.id,
        error,
      })
    }
    return { error }
  }

  const registry: DefinitionRegistry<C, S> = {
    noun,
    list() {
      const items: DefinitionItem<C, S>[] = [...configured].map(([id, definition]) => ({
        id,
        source: 'config' as const,
        definition,
      }))
      const shadowed: string[] = []
      const invalid: InvalidDefinition[] = []
      for (const row of opts.rows.list()) {
        const { definition, error } = parse(row)
        if (error !== undefined) invalid.push({ id: row.id, error })
        if (configured.has(row.id)) shadowed.push(row.id)
        else if (definition !== undefined) items.push({ id: row.id, source: 'api', definition, row })
      }
      return { items, shadowed, invalid }
    },
    get(id) {
      const c = configured.get(id)
      if (c !== undefined) return { id, source: 'config', definition: c }
      const row = opts.rows.get(id)
      if (!row) return undefined
      const { definition } = parse(row)
      return definition === undefined ? undefined : { id, source: 'api', definition, row }
    },
    stored(id) {
      const row = opts.rows.get(id)
      return row ? { row, ...parse(row) } : undefined
    },
    configDefines: (id) => configured.has(id),
    refuseConfigDefined(id) {
      if (configured.has(id))
        throw Errors.conflict(`${noun} ${id} is defined in the config file; change it there`)
    },
    config: () => [...configured.values()],
    setConfig(config) {
      const next = new Map(config.map((c) => [idOf(c), c]))
      const ids = [...new Set([...configured.keys(), ...next.keys()])].filter(
        (id) => JSON.stringify(configured.get(id)) !== JSON.stringify(next.get(id)),
      )
      configured = next
      for (const id of ids.sort()) registry.notify(id)
      return ids
    },
    notify(id) {
      for (const fn of listeners) fn(id)
    },
    onChange(fn) {
      listeners.add(fn)
      return () => listeners.delete(fn)
    },
  }
  return registry
}

/** Tables of API-defined items: an id (`name` for hooks and targets), the definition as JSON, the secret apart. */
type DefinitionTable = 'hooks' | 'webhook_targets' | 'rules'

interface RawRow {
  id: string
  definition: string
  secret: string | null
  created_at: number
  updated_at: number
}

const columns = (table: DefinitionTable) =>
  table === 'rules'
    ? 'id, definition, NULL AS secret, created_at, updated_at'
    : 'name AS id, definition, secret, created_at, updated_at'
const key = (table: DefinitionTable) => (table === 'rules' ? 'id' : 'name')
const toRow = (r: RawRow): StoredRow => ({
  id: r.id,
  definition: r.definition,
  secret: r.secret,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

/** The rows of one definition table. */
export function tableRows(db: Database, table: DefinitionTable): DefinitionRows {
  return {
    list: () =>
      (db.query(`SELECT ${columns(table)} FROM ${table} ORDER BY ${key(table)}`).all() as RawRow[]).map(
        toRow,
      ),
    get(id) {
      const r = db
        .query(`SELECT ${columns(table)} FROM ${table} WHERE ${key(table)} = ?`)
        .get(id) as RawRow | null
      return r ? toRow(r) : undefined
    },
  }
}

/** Inserts or replaces an API-defined item (created_at kept); answers whether it existed. */
export function saveDefinitionRow(
  db: Database,
  table: DefinitionTable,
  id: string,
  definition: unknown,
  secret: string | null,
  now: number,
): boolean {
  const existed = db.query(`SELECT 1 FROM ${table} WHERE ${key(table)} = ?`).get(id) !== null
  const json = JSON.stringify(definition)
  if (table === 'rules')
    db.query(
      `INSERT INTO rules (id, definition, created_at, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`,
    ).run(id, json, now, now)
  else
    db.query(
      `INSERT INTO ${table} (name, definition, secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, secret = excluded.secret,
         updated_at = excluded.updated_at`,
    ).run(id, json, secret, now, now)
  return existed
}

export function deleteDefinitionRow(db: Database, table: DefinitionTable, id: string): boolean {
  return db.query(`DELETE FROM ${table} WHERE ${key(table)} = ?`).run(id).changes > 0
}
