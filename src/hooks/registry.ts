import type { Database } from 'bun:sqlite'
import { Errors } from '../errors.ts'
import type { Logger } from '../log.ts'
import { createSecretDefinitions, type SecretDefinitions } from '../store/secret-definitions.ts'
import { type HookConfig, type HookCreate, type HookDefinition, hookCreateSchema } from './schema.ts'

export interface HookRegistryOptions {
  db: Database
  /** Hooks from the config file: listed with the API's, never changed through it (docs/definitions.md). */
  config: readonly HookConfig[]
  now?: () => number
  /** Where a stored hook that no longer parses is reported. */
  log?: Logger
  /** Reads a `secretFile` (config files may keep secrets out of the TOML). */
  readSecretFile?: (path: string) => string
}

/** Config-defined and API-defined hooks behind one lookup. */
export interface HookRegistry
  extends Omit<SecretDefinitions<HookConfig, HookDefinition, HookCreate>, 'create'> {
  /** Creates an API hook; returns it and the secret when one was generated (shown once). */
  create(input: HookCreate): { hook: HookDefinition; generatedSecret?: string }
}

export function createHookRegistry(opts: HookRegistryOptions): HookRegistry {
  const defs = createSecretDefinitions<HookConfig, HookDefinition, HookCreate>({
    db: opts.db,
    table: 'hooks',
    config: opts.config,
    schema: hookCreateSchema,
    noun: 'hook',
    notFound: 'hook',
    now: opts.now ?? Date.now,
    log: opts.log,
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
