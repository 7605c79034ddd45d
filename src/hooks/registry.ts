import type { Database } from 'bun:sqlite'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { Errors } from '../http/errors.ts'
import type { HookConfig, HookCreate, HookDefinition } from './schema.ts'
import { deleteStoredHook, getStoredHook, listStoredHooks, saveStoredHook } from './store.ts'

export interface HookRegistryOptions {
  db: Database
  /** Hooks from the config file: listed with the API's, never changed through it. */
  config: readonly HookConfig[]
  now?: () => number
  /** Reads a `secretFile` (config files may keep secrets out of the TOML). */
  readSecretFile?: (path: string) => string
}

/** Config-defined and API-defined hooks behind one lookup. */
export interface HookRegistry {
  get(name: string): HookDefinition | undefined
  list(): HookDefinition[]
  /** Creates an API hook; returns it and the secret when one was generated (shown once). */
  create(input: HookCreate): { hook: HookDefinition; generatedSecret?: string }
  update(name: string, input: Omit<HookCreate, 'name'> & { name?: string }): HookDefinition
  remove(name: string): void
}

export function createHookRegistry(opts: HookRegistryOptions): HookRegistry {
  const now = opts.now ?? Date.now
  const readSecret =
    opts.readSecretFile ?? ((path: string) => readFileSync(resolve(path), 'utf8').replace(/\r?\n$/, ''))
  const configured = new Map(opts.config.map((h) => [h.name, h]))
  const resolved = new Map<string, HookDefinition>()

  const fromConfig = (h: HookConfig): HookDefinition => {
    const cached = resolved.get(h.name)
    if (cached) return cached
    const { secretFile, ...rest } = h
    let secret = h.secret
    if (!secret && secretFile) {
      try {
        secret = readSecret(secretFile)
      } catch {
        // Fail closed: a hook whose secret cannot be read accepts nothing.
        throw Errors.unavailable(`secret of hook ${h.name} cannot be read`)
      }
    }
    const def = strip({ ...rest, ...(secret ? { secret } : {}), source: 'config' as const })
    resolved.set(h.name, def)
    return def
  }

  const fromStore = (name: string): HookDefinition | undefined => {
    const row = getStoredHook(opts.db, name)
    if (!row) return undefined
    return strip({
      ...(row.definition as Omit<HookDefinition, 'source'>),
      ...(row.secret ? { secret: row.secret } : {}),
      name: row.name,
      source: 'api' as const,
    })
  }

  const ownedByApi = (name: string) => {
    if (configured.has(name)) throw Errors.conflict(`hook ${name} is defined in the config file`)
    const existing = fromStore(name)
    if (!existing) throw Errors.notFound('hook')
    return existing
  }

  return {
    get(name) {
      const c = configured.get(name)
      return c ? fromConfig(c) : fromStore(name)
    },
    list() {
      const api = listStoredHooks(opts.db)
        .filter((row) => !configured.has(row.name))
        .map((row) => fromStore(row.name)!)
      return [...[...configured.values()].map(fromConfig), ...api].sort((a, b) =>
        a.name.localeCompare(b.name),
      )
    },
    create(input) {
      if (configured.has(input.name) || getStoredHook(opts.db, input.name))
        throw Errors.conflict(`hook ${input.name} already exists`)
      const { secret: given, ...definition } = input
      const generatedSecret = !given && input.preset !== 'none' ? randomSecret() : undefined
      const secret = given ?? generatedSecret ?? null
      saveStoredHook(opts.db, input.name, definition, secret, now())
      return { hook: fromStore(input.name)!, ...(generatedSecret ? { generatedSecret } : {}) }
    },
    update(name, input) {
      const existing = ownedByApi(name)
      if (input.name !== undefined && input.name !== name) throw Errors.conflict('a hook cannot be renamed')
      const { secret: given, name: _ignored, ...definition } = input
      const secret = given ?? existing.secret ?? null
      if (input.preset !== 'none' && !secret) throw Errors.conflict(`preset ${input.preset} needs a secret`)
      saveStoredHook(opts.db, name, { ...definition, name }, secret, now())
      return fromStore(name)!
    },
    remove(name) {
      ownedByApi(name)
      deleteStoredHook(opts.db, name)
    },
  }
}

/** A random secret for hooks and webhook targets: 32 bytes, URL-safe. */
export function randomSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
}

// Optional keys that are absent must stay absent (exactOptionalPropertyTypes-friendly views).
function strip<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T
}
