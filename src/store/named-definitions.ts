import type { Database } from 'bun:sqlite'
import { Errors } from '../errors.ts'
import { readSecretFile } from '../util/secret-file.ts'
import { randomSecret } from './tokens.ts'

/** Tables of definitions created through the API: a name, the definition as JSON, the secret apart. */
export type DefinitionTable = 'hooks' | 'webhook_targets'

/** One row of a definition table. */
export interface StoredDefinition {
  name: string
  definition: Record<string, unknown>
  secret: string | null
  createdAt: number
  updatedAt: number
}

interface Row {
  name: string
  definition: string
  secret: string | null
  created_at: number
  updated_at: number
}

const toStored = (r: Row): StoredDefinition => ({
  name: r.name,
  definition: JSON.parse(r.definition),
  secret: r.secret,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

export function listStoredDefinitions(db: Database, table: DefinitionTable): StoredDefinition[] {
  return (db.query(`SELECT * FROM ${table} ORDER BY name`).all() as Row[]).map(toStored)
}

export function getStoredDefinition(
  db: Database,
  table: DefinitionTable,
  name: string,
): StoredDefinition | undefined {
  const row = db.query(`SELECT * FROM ${table} WHERE name = ?`).get(name) as Row | null
  return row ? toStored(row) : undefined
}

/** Inserts or replaces an API-defined definition. */
export function saveStoredDefinition(
  db: Database,
  table: DefinitionTable,
  name: string,
  definition: Record<string, unknown>,
  secret: string | null,
  now: number,
): void {
  db.query(
    `INSERT INTO ${table} (name, definition, secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, secret = excluded.secret,
       updated_at = excluded.updated_at`,
  ).run(name, JSON.stringify(definition), secret, now, now)
}

export function deleteStoredDefinition(db: Database, table: DefinitionTable, name: string): boolean {
  return db.query(`DELETE FROM ${table} WHERE name = ?`).run(name).changes > 0
}

/** A definition in a config array: its secret inline or in `secretFile`. */
interface NamedConfig {
  name: string
  secret?: string | undefined
  secretFile?: string | undefined
}

/** A definition ready to use, from either source, secret resolved. */
interface NamedDefinition {
  name: string
  secret?: string
  source: 'config' | 'api'
}

/** What the API sends to create one; `secret: null` asks for none. */
interface NamedInput {
  name: string
  secret?: string | null | undefined
}

export interface DefinitionRegistryOptions<C extends NamedConfig, I extends NamedInput> {
  db: Database
  table: DefinitionTable
  /** From the config file: listed with the API's, never changed through it, winning on a shared name. */
  config: readonly C[]
  /** How messages name one (`hook ${name} already exists`). */
  noun: string
  /** What a 404 names. */
  notFound: string
  now: () => number
  readSecretFile?: ((path: string) => string) | undefined
  /** The error for a config item whose `secretFile` cannot be read; without it the read error goes out as is. */
  unreadableSecret?: (name: string) => Error
  /** Whether a create that names no secret gets a generated one. */
  generatesSecret: (input: I) => boolean
  /** Refuses an update that does not fit with the secret it would keep. */
  checkUpdate?: (input: Omit<I, 'name'>, secret: string | null) => void
  /** Called with a name after it was created, changed or removed through the API or a config reload. */
  onChange?: (name: string) => void
}

/** Config-defined and API-defined items behind one lookup. */
export interface DefinitionRegistry<C, D, I extends NamedInput> {
  get(name: string): D | undefined
  /** Both sources, by name. */
  list(): D[]
  /** Creates an API item; returns it and the secret when one was generated (shown once). */
  create(input: I): { definition: D; generatedSecret?: string }
  /** Replaces an API item; a missing secret keeps the old one. Config items answer 409. */
  update(name: string, input: Omit<I, 'name'> & { name?: string }): D
  remove(name: string): void
  /**
   * Replaces the config file's items (a config reload); answers the names added, changed or
   * removed. A removed item's API namesake, if any, shows again.
   */
  setConfig(config: readonly C[]): string[]
}

/** The config-plus-API mechanism shared by inbound hooks and outbound webhook targets. */
export function createDefinitionRegistry<
  C extends NamedConfig,
  D extends NamedDefinition,
  I extends NamedInput,
>(opts: DefinitionRegistryOptions<C, I>): DefinitionRegistry<C, D, I> {
  const { db, table, noun } = opts
  const readSecret = opts.readSecretFile ?? ((path: string) => readSecretFile(path))
  let configured = new Map(opts.config.map((c) => [c.name, c]))
  const resolved = new Map<string, D>()
  const changed = (name: string) => opts.onChange?.(name)

  const fromConfig = (c: C): D => {
    const cached = resolved.get(c.name)
    if (cached) return cached
    const { secretFile, ...rest } = c
    let secret = c.secret
    if (!secret && secretFile) {
      try {
        secret = readSecret(secretFile)
      } catch (err) {
        throw opts.unreadableSecret?.(c.name) ?? err
      }
    }
    // The config schema that parsed `c` made it a valid D once the secret is resolved.
    const def = strip({ ...rest, ...(secret ? { secret } : {}), source: 'config' as const }) as unknown as D
    resolved.set(c.name, def)
    return def
  }

  const fromStore = (name: string): D | undefined => {
    const row = getStoredDefinition(db, table, name)
    if (!row) return undefined
    // The API schema checked the definition before it was stored.
    return strip({
      ...row.definition,
      ...(row.secret ? { secret: row.secret } : {}),
      name: row.name,
      source: 'api' as const,
    }) as unknown as D
  }

  const ownedByApi = (name: string): D => {
    if (configured.has(name)) throw Errors.conflict(`${noun} ${name} is defined in the config file`)
    const existing = fromStore(name)
    if (!existing) throw Errors.notFound(opts.notFound)
    return existing
  }

  return {
    get(name) {
      const c = configured.get(name)
      return c ? fromConfig(c) : fromStore(name)
    },
    list() {
      const api = listStoredDefinitions(db, table)
        .filter((row) => !configured.has(row.name))
        .map((row) => fromStore(row.name)!)
      return [...[...configured.values()].map(fromConfig), ...api].sort((a, b) =>
        a.name.localeCompare(b.name),
      )
    },
    create(input) {
      if (configured.has(input.name) || getStoredDefinition(db, table, input.name))
        throw Errors.conflict(`${noun} ${input.name} already exists`)
      const { secret: given, ...definition } = input
      const generatedSecret = given === undefined && opts.generatesSecret(input) ? randomSecret() : undefined
      saveStoredDefinition(db, table, input.name, definition, given ?? generatedSecret ?? null, opts.now())
      changed(input.name)
      return { definition: fromStore(input.name)!, ...(generatedSecret ? { generatedSecret } : {}) }
    },
    update(name, input) {
      const existing = ownedByApi(name)
      if (input.name !== undefined && input.name !== name)
        throw Errors.conflict(`a ${noun} cannot be renamed`)
      const { secret: given, name: _ignored, ...definition } = input
      const secret = given === undefined ? (existing.secret ?? null) : given
      opts.checkUpdate?.(input, secret)
      saveStoredDefinition(db, table, name, { ...definition, name }, secret, opts.now())
      changed(name)
      return fromStore(name)!
    },
    remove(name) {
      ownedByApi(name)
      deleteStoredDefinition(db, table, name)
      changed(name)
    },
    setConfig(config) {
      const next = new Map(config.map((c) => [c.name, c]))
      const names = [...new Set([...configured.keys(), ...next.keys()])].filter(
        (name) => JSON.stringify(configured.get(name)) !== JSON.stringify(next.get(name)),
      )
      configured = next
      // Secrets are read again, a `secretFile` whose content changed included.
      resolved.clear()
      for (const name of names) changed(name)
      return names.sort()
    },
  }
}

// Optional keys that are absent must stay absent (exactOptionalPropertyTypes-friendly views).
function strip<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T
}
