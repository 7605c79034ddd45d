import { Errors } from '../errors.ts'
import {
  createdAs,
  createSecretDefinitions,
  type NamedSecretDefinitions,
  type SecretRegistryOptions,
} from '../store/secret-definitions.ts'
import { type HookConfig, type HookCreate, type HookDefinition, hookCreateSchema } from './schema.ts'

/** Config-defined and API-defined hooks behind one lookup. */
export type HookRegistry = NamedSecretDefinitions<HookConfig, HookDefinition, HookCreate, 'hook'>

export function createHookRegistry(opts: SecretRegistryOptions<HookConfig>): HookRegistry {
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
  return createdAs(defs, 'hook')
}
