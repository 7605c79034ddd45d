import type { Database } from 'bun:sqlite'
import type { Logger } from '../../log.ts'
import { createSecretDefinitions, type SecretDefinitions } from '../../store/secret-definitions.ts'
import { type TargetConfig, type TargetCreate, targetCreateSchema, type WebhookTarget } from './schema.ts'

export interface TargetRegistryOptions {
  db: Database
  /** Targets from the config file: listed with the API's, never changed through it (docs/definitions.md). */
  config: readonly TargetConfig[]
  now?: () => number
  /** Where a stored target that no longer parses is reported. */
  log?: Logger
  readSecretFile?: (path: string) => string
}

/** Config-defined and API-defined webhook targets behind one lookup. */
export interface TargetRegistry
  extends Omit<SecretDefinitions<TargetConfig, WebhookTarget, TargetCreate>, 'create'> {
  /** Creates an API target; returns it and the secret when one was generated (shown once). */
  create(input: TargetCreate): { target: WebhookTarget; generatedSecret?: string }
}

export function createTargetRegistry(opts: TargetRegistryOptions): TargetRegistry {
  const defs = createSecretDefinitions<TargetConfig, WebhookTarget, TargetCreate>({
    db: opts.db,
    table: 'webhook_targets',
    config: opts.config,
    schema: targetCreateSchema,
    noun: 'target',
    notFound: 'webhook target',
    now: opts.now ?? Date.now,
    log: opts.log,
    readSecretFile: opts.readSecretFile,
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
