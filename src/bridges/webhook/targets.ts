import {
  createSecretDefinitions,
  type SecretDefinitions,
  type SecretRegistryOptions,
} from '../../store/secret-definitions.ts'
import { type TargetConfig, type TargetCreate, targetCreateSchema, type WebhookTarget } from './schema.ts'

export type TargetRegistryOptions = SecretRegistryOptions<TargetConfig>

/** Config-defined and API-defined webhook targets behind one lookup. */
export interface TargetRegistry
  extends Omit<SecretDefinitions<TargetConfig, WebhookTarget, TargetCreate>, 'create'> {
  /** Creates an API target; returns it and the secret when one was generated (shown once). */
  create(input: TargetCreate): { target: WebhookTarget; generatedSecret?: string }
}

export function createTargetRegistry(opts: TargetRegistryOptions): TargetRegistry {
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
  return {
    ...defs,
    create(input) {
      const { definition: target, ...rest } = defs.create(input)
      return { target, ...rest }
    },
  }
}
