import type { ActionBase, ActionExecutor } from '../actions/runner.ts'
import type { DeliveryHandler } from '../outbox/types.ts'
import type { Service } from '../runtime/service.ts'

/**
 * An action carried out through the outbox: the executor queues it, so it survives restarts and a
 * peer that is down for a while; the handler of its outbox kind delivers it.
 */
export interface OutboxAction<A extends ActionBase> {
  executor: ActionExecutor<A>
  handler: DeliveryHandler
}

/** A bridge that sends through the outbox and may be off for want of configuration. */
export interface OutboxBridge<A extends ActionBase> extends OutboxAction<A>, Service {
  readonly enabled: boolean
}
