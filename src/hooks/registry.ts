import type { Database } from 'bun:sqlite'
import { Errors } from '../errors.ts'
import { createDefinitionRegistry } from '../store/named-definitions.ts'
import type { HookConfig, HookCreate, HookDefinition } from './schema.ts'

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
  /** Replaces the config file's hooks (a config reload); answers the names added, changed or removed. */
  setConfig(config: readonly HookConfig[]): string[]
}

export function createHookRegistry(opts: HookRegistryOptions): HookRegistry {
  const defs = createDefinitionRegistry<HookConfig, HookDefinition, HookCreate>({
    db: opts.db,
    table: 'hooks',
    config: opts.config,
    noun: 'hook',
    notFound: 'hook',
    now: opts.now ?? Date.now,
    readSecretFile: opts.readSecretFile,
    // Fail closed: a hook whose secret cannot be read accepts nothing.
    unreadableSecret: (name) => Errors.unavailable(`secret of hook ${name} cannot be read`),
    generatesSecret: (input) => input.preset !== 'none',
    checkUpdate: (input, secret) => {
      if (input.preset !== 'none' && !secret) throw Errors.conflict(`preset ${input.preset} needs a secret`)
    },
  })
  return {
    ...defs,
    create(input) {
      const { definition: hook, ...rest } = defs.create(input)
      return { hook, ...rest }
    },
  }
}
