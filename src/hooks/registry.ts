import { Errors } from '../errors.ts'
import {
  createSecretDefinitions,
  type SecretDefinitions,
  type SecretRegistryOptions,
} from '../store/secret-definitions.ts'
import { type HookConfig, type HookCreate, type HookDefinition, hookCreateSchema } from './schema.ts'

export type HookRegistryOptions = SecretRegistryOptions<HookConfig>

/** Config-defined and API-defined hooks behind one lookup. */
export interface HookRegistry
  extends Omit<SecretDefinitions<HookConfig, HookDefinition, HookCreate>, 'create'> {
  /** Creates an API hook; returns it and the secret when one was generated (shown once). */
  create(input: HookCreate): { hook: HookDefinition; generatedSecret?: string }
}

export function createHookRegistry(opts: HookRegistryOptions): HookRegistry {
  const defs = createSecretDefinitions<HookConfig, HookDefinition, HookCreate>({
    ...opts,
    table: 'hooks',
    schema: hookCreateSchema,
    noun: 'hook',
    notFound: 'hook',
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
