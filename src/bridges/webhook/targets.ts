import type { Database } from 'bun:sqlite'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { randomSecret } from '../../hooks/registry.ts'
import { Errors } from '../../http/errors.ts'
import type { TargetConfig, TargetCreate, WebhookTarget } from './schema.ts'
import { deleteStoredTarget, getStoredTarget, listStoredTargets, saveStoredTarget } from './store.ts'

export interface TargetRegistryOptions {
  db: Database
  config: readonly TargetConfig[]
  now?: () => number
  readSecretFile?: (path: string) => string
}

/** Config-defined and API-defined webhook targets behind one lookup. */
export interface TargetRegistry {
  get(name: string): WebhookTarget | undefined
  list(): WebhookTarget[]
  create(input: TargetCreate): { target: WebhookTarget; generatedSecret?: string }
  update(name: string, input: Omit<TargetCreate, 'name'> & { name?: string }): WebhookTarget
  remove(name: string): void
  /** Called with a target's name after it was created, changed or removed. */
  onChange(fn: (name: string) => void): () => void
}

export function createTargetRegistry(opts: TargetRegistryOptions): TargetRegistry {
  const now = opts.now ?? Date.now
  const readSecret =
    opts.readSecretFile ?? ((path: string) => readFileSync(resolve(path), 'utf8').replace(/\r?\n$/, ''))
  const configured = new Map(opts.config.map((t) => [t.name, t]))
  const resolved = new Map<string, WebhookTarget>()
  const listeners = new Set<(name: string) => void>()
  const changed = (name: string) => {
    for (const fn of listeners) fn(name)
  }

  const fromConfig = (t: TargetConfig): WebhookTarget => {
    const cached = resolved.get(t.name)
    if (cached) return cached
    const { secretFile, ...rest } = t
    // An unreadable secret file fails loudly at start rather than sending unsigned requests.
    const secret = t.secret ?? (secretFile ? readSecret(secretFile) : undefined)
    const target = strip({ ...rest, ...(secret ? { secret } : {}), source: 'config' as const })
    resolved.set(t.name, target)
    return target
  }

  const fromStore = (name: string): WebhookTarget | undefined => {
    const row = getStoredTarget(opts.db, name)
    if (!row) return undefined
    return strip({
      ...(row.definition as Omit<WebhookTarget, 'source'>),
      ...(row.secret ? { secret: row.secret } : {}),
      name: row.name,
      source: 'api' as const,
    })
  }

  const ownedByApi = (name: string) => {
    if (configured.has(name)) throw Errors.conflict(`target ${name} is defined in the config file`)
    const existing = fromStore(name)
    if (!existing) throw Errors.notFound('webhook target')
    return existing
  }

  return {
    get(name) {
      const c = configured.get(name)
      return c ? fromConfig(c) : fromStore(name)
    },
    list() {
      const api = listStoredTargets(opts.db)
        .filter((row) => !configured.has(row.name))
        .map((row) => fromStore(row.name)!)
      return [...[...configured.values()].map(fromConfig), ...api].sort((a, b) =>
        a.name.localeCompare(b.name),
      )
    },
    create(input) {
      if (configured.has(input.name) || getStoredTarget(opts.db, input.name))
        throw Errors.conflict(`target ${input.name} already exists`)
      const { secret: given, ...definition } = input
      const generatedSecret = given === undefined ? randomSecret() : undefined
      saveStoredTarget(opts.db, input.name, definition, given ?? generatedSecret ?? null, now())
      changed(input.name)
      return { target: fromStore(input.name)!, ...(generatedSecret ? { generatedSecret } : {}) }
    },
    update(name, input) {
      const existing = ownedByApi(name)
      if (input.name !== undefined && input.name !== name) throw Errors.conflict('a target cannot be renamed')
      const { secret: given, name: _ignored, ...definition } = input
      const secret = given === undefined ? (existing.secret ?? null) : given
      saveStoredTarget(opts.db, name, { ...definition, name }, secret, now())
      changed(name)
      return fromStore(name)!
    },
    remove(name) {
      ownedByApi(name)
      deleteStoredTarget(opts.db, name)
      changed(name)
    },
    onChange(fn) {
      listeners.add(fn)
      return () => listeners.delete(fn)
    },
  }
}

function strip<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T
}
