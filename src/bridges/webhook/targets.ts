import {
  createdAs,
  createSecretDefinitions,
  type NamedSecretDefinitions,
  type SecretRegistryOptions,
} from '../../store/secret-definitions.ts'
import { type TargetConfig, type TargetCreate, targetCreateSchema, type WebhookTarget } from './schema.ts'

/** Config-defined and API-defined webhook targets behind one lookup. */
export type TargetRegistry = NamedSecretDefinitions<TargetConfig, WebhookTarget, TargetCreate, 'target'>

export function createTargetRegistry(opts: SecretRegistryOptions<TargetConfig>): TargetRegistry {
  const defs = createSecretDefinitions<TargetConfig, WebhookTarget, TargetCreate>({
    ...opts,
    table: 'webhook_targets',
    schema: targetCreateSchema,
    noun: 'target',
    notFound: 'webhook target',
    // No `unreadableSecret`: an unreadable secret file fails loudly at start rather than sending unsigned requests.
    // A missing secret is generated; `null` asks for unsigned deliveries.
    generatesSecret: () => true,
  })
  return createdAs(defs, 'target')
}
