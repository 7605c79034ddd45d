import type { Database } from 'bun:sqlite'
import { createDefinitionRegistry } from '../../store/named-definitions.ts'
import type { TargetConfig, TargetCreate, WebhookTarget } from './schema.ts'

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
  /** Replaces the config file's targets (a config reload); answers the names added, changed or removed. */
  setConfig(config: readonly TargetConfig[]): string[]
  /** Called with a target's name after it was created, changed or removed (API or config reload). */
  onChange(fn: (name: string) => void): () => void
}

export function createTargetRegistry(opts: TargetRegistryOptions): TargetRegistry {
  const listeners = new Set<(name: string) => void>()
  const defs = createDefinitionRegistry<TargetConfig, WebhookTarget, TargetCreate>({
    db: opts.db,
    table: 'webhook_targets',
    config: opts.config,
    noun: 'target',
    notFound: 'webhook target',
    now: opts.now ?? Date.now,
    readSecretFile: opts.readSecretFile,
    // No `unreadableSecret`: an unreadable secret file fails loudly at start rather than sending unsigned requests.
    // A missing secret is generated; `null` asks for unsigned deliveries.
    generatesSecret: () => true,
    onChange: (name) => {
      for (const fn of listeners) fn(name)
    },
  })
  return {
    ...defs,
    create(input) {
      const { definition: target, ...rest } = defs.create(input)
      return { target, ...rest }
    },
    onChange(fn) {
      listeners.add(fn)
      return () => listeners.delete(fn)
    },
  }
}
