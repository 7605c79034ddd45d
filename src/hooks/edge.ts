import type { z } from 'zod'
import type { CoreDeps } from '../runtime/deps.ts'
import type { Service } from '../runtime/service.ts'
import { createHookReceiver, type HookReceiver, type HookReceiverOptions } from './receiver.ts'
import { createHookRegistry, type HookRegistry } from './registry.ts'
import type { hookDeliveriesConfigSchema, hooksConfigSchema } from './schema.ts'
import { createHookHousekeeping } from './service.ts'

interface InboundHooksOptions extends CoreDeps {
  config: {
    hooks: z.output<typeof hooksConfigSchema>
    hookDeliveries: z.output<typeof hookDeliveriesConfigSchema>
  }
  /** Publishes a hook's message; the hook answers once it resolved. */
  publish: HookReceiverOptions['publish']
}

/** Inbound webhooks: the hook registry, the receiver and the capture housekeeping. */
interface InboundHooks {
  registry: HookRegistry
  receiver: HookReceiver
  /** Prunes captured deliveries and remembered delivery ids. */
  housekeeping: Service
}

/** Builds the registry, receiver and housekeeping from `hooks` and `hookDeliveries`; does no I/O. */
export function createInboundHooks(opts: InboundHooksOptions): InboundHooks {
  const { config, db, bus, log } = opts
  const now = opts.now ?? Date.now
  const registry = createHookRegistry({ db, config: config.hooks, now, log })
  const receiver = createHookReceiver({
    db,
    registry,
    bus,
    log,
    now,
    captureBytes: config.hookDeliveries.captureBytes,
    // The 200 goes out only after the broker accepted the message: nothing acknowledged is lost.
    publish: opts.publish,
  })
  const housekeeping = createHookHousekeeping({
    db,
    log,
    now,
    retentionMs: config.hookDeliveries.retention,
    rememberIdsMs: config.hookDeliveries.rememberIds,
  })
  return { registry, receiver, housekeeping }
}
