import type { Database } from 'bun:sqlite'
import type { z } from 'zod'
import { Errors } from '../errors.ts'
import type { Logger } from '../log.ts'
import { readSecretFile } from '../util/secret-file.ts'
import {
  createDefinitionRegistry,
  type DefinitionItem,
  deleteDefinitionRow,
  type InvalidDefinition,
  saveDefinitionRow,
  tableRows,
} from './definitions.ts'
import { randomSecret } from './tokens.ts'

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

/** What a registry of hooks or of webhook targets is built from (docs/definitions.md). */
export interface SecretRegistryOptions<C> {
  db: Database
  /** From the config file: listed with the API's, never changed through it, winning on a shared name. */
  config: readonly C[]
  now?: (() => number) | undefined
  /** Where a stored item that no longer parses is reported. */
  log?: Logger | undefined
  /** Reads a `secretFile` (config files may keep secrets out of the TOML). */
  readSecretFile?: ((path: string) => string) | undefined
}

interface SecretDefinitionOptions<C extends NamedConfig, I extends NamedInput>
  extends SecretRegistryOptions<C> {
  table: 'hooks' | 'webhook_targets'
  /** The API's create schema: stored rows (their secret apart) are parsed with it again on every read. */
  schema: z.ZodType<Omit<I, 'secret'>>
  /** How messages name one (`hook github is defined in the config file`). */
  noun: string
  /** What a 404 names. */
  notFound: string
  /** The error for a config item whose `secretFile` cannot be read; without it the read error goes out as is. */
  unreadableSecret?: (name: string) => Error
  /** Whether a create that names no secret gets a generated one. */
  generatesSecret: (input: I) => boolean
  /** Refuses an update that does not fit with the secret it would keep. */
  checkUpdate?: (input: Omit<I, 'name'>, secret: string | null) => void
}

/** Config-defined and API-defined items with a secret kept apart (hooks, webhook targets). */
interface SecretDefinitions<C, D, I extends NamedInput> {
  get(name: string): D | undefined
  /** Both sources, by name; the config file's item where both define a name. */
  list(): D[]
  /** Stored names the config file shadows, and stored rows that no longer parse. */
  report(): { shadowed: string[]; invalid: InvalidDefinition[] }
  /** Creates an API item; returns it and the secret when one was generated (shown once). */
  create(input: I): { definition: D; generatedSecret?: string }
  /** Replaces an API item (a stored row that no longer parses too); a missing secret keeps the old one. */
  update(name: string, input: Omit<I, 'name'> & { name?: string }): D
  remove(name: string): void
  /**
   * Replaces the config file's items (a config reload); answers the names added, changed or
   * removed. A removed item's API namesake, if any, shows again.
   */
  setConfig(config: readonly C[]): string[]
  /** Called with a name after it was created, changed or removed through the API or a config reload. */
  onChange(fn: (name: string) => void): () => void
}

/** The definitions, with `create` answering the new item by its own name (`{ hook, generatedSecret }`). */
export type NamedSecretDefinitions<C, D, I extends NamedInput, K extends string> = Omit<
  SecretDefinitions<C, D, I>,
  'create'
> & {
  /** Creates an API item; returns it and the secret when one was generated (shown once). */
  create(input: I): Record<K, D> & { generatedSecret?: string }
}

/** `defs` whose `create` answers the new item under `key` instead of `definition`. */
export function createdAs<C, D, I extends NamedInput, K extends string>(
  defs: SecretDefinitions<C, D, I>,
  key: K,
): NamedSecretDefinitions<C, D, I, K> {
  return {
    ...defs,
    create(input) {
      const { definition, ...rest } = defs.create(input)
      return { ...({ [key]: definition } as Record<K, D>), ...rest }
    },
  }
}

/** Hooks and webhook targets on the shared definition registry (docs/definitions.md), secrets apart. */
export function createSecretDefinitions<
  C extends NamedConfig,
  D extends NamedDefinition,
  I extends NamedInput,
>(opts: SecretDefinitionOptions<C, I>): SecretDefinitions<C, D, I> {
  const { db, table, noun } = opts
  const now = opts.now ?? Date.now
  const readSecret = opts.readSecretFile ?? ((path: string) => readSecretFile(path))
  const registry = createDefinitionRegistry<C, Omit<I, 'secret'>>({
    noun,
    config: opts.config,
    idOf: (c) => c.name,
    schema: opts.schema,
    prepare: (definition, row) => ({ ...definition, name: row.id }),
    rows: tableRows(db, table),
    log: opts.log,
  })
  const resolved = new Map<string, D>()

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

  const toDefinition = (item: DefinitionItem<C, Omit<I, 'secret'>>): D => {
    if (item.source === 'config') return fromConfig(item.definition)
    // The API schema parsed the stored definition; with its secret and source it is a D.
    return strip({
      ...item.definition,
      ...(item.row.secret ? { secret: item.row.secret } : {}),
      name: item.id,
      source: 'api' as const,
    }) as unknown as D
  }

  const mustGet = (name: string): D => {
    const def = definitions.get(name)
    if (!def) throw Errors.notFound(opts.notFound)
    return def
  }

  const definitions: SecretDefinitions<C, D, I> = {
    get(name) {
      const item = registry.get(name)
      return item ? toDefinition(item) : undefined
    },
    list: () =>
      registry
        .list()
        .items.map(toDefinition)
        .sort((a, b) => a.name.localeCompare(b.name)),
    report() {
      const { shadowed, invalid } = registry.list()
      return { shadowed, invalid }
    },
    create(input) {
      registry.refuseConfigDefined(input.name)
      if (registry.stored(input.name)) throw Errors.conflict(`${noun} ${input.name} already exists`)
      const { secret: given, ...definition } = input
      const generatedSecret = given === undefined && opts.generatesSecret(input) ? randomSecret() : undefined
      saveDefinitionRow(db, table, input.name, definition, given ?? generatedSecret ?? null, now())
      registry.notify(input.name)
      return { definition: mustGet(input.name), ...(generatedSecret ? { generatedSecret } : {}) }
    },
    update(name, input) {
      registry.refuseConfigDefined(name)
      const existing = registry.stored(name)
      if (!existing) throw Errors.notFound(opts.notFound)
      if (input.name !== undefined && input.name !== name)
        throw Errors.conflict(`a ${noun} cannot be renamed`)
      const { secret: given, name: _ignored, ...definition } = input
      const secret = given === undefined ? existing.row.secret : given
      opts.checkUpdate?.(input, secret)
      saveDefinitionRow(db, table, name, { ...definition, name }, secret, now())
      registry.notify(name)
      return mustGet(name)
    },
    remove(name) {
      registry.refuseConfigDefined(name)
      if (!deleteDefinitionRow(db, table, name)) throw Errors.notFound(opts.notFound)
      registry.notify(name)
    },
    setConfig(config) {
      // Secrets are read again, a `secretFile` whose content changed included.
      resolved.clear()
      return registry.setConfig(config).sort()
    },
    onChange: (fn) => registry.onChange(fn),
  }
  return definitions
}

// Optional keys that are absent must stay absent (exactOptionalPropertyTypes-friendly views).
function strip<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T
}
