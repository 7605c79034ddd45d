import { ACTION_WEBHOOK_KIND, createWebhookAction } from '../bridges/webhook/action.ts'
import { createWebhookBridge } from '../bridges/webhook/bridge.ts'
import { createWebhookClient } from '../bridges/webhook/client.ts'
import { createTargetRegistry, type TargetRegistry } from '../bridges/webhook/targets.ts'
import type { Broker } from '../broker/broker.ts'
import { createInboundHooks } from '../hooks/edge.ts'
import type { RequireAuth } from '../http/auth/middleware.ts'
import { createHookEndpoint, createHooksApi } from '../http/routes/hooks.ts'
import { createWebhookTargetsApi } from '../http/routes/webhook-targets.ts'
import type { Outbox } from '../outbox/outbox.ts'
import type { HubBasics, HubModule } from './module.ts'

interface WebhookTargetsModule extends HubModule {
  targets: TargetRegistry
}

interface WebhookTargetsDeps extends HubBasics {
  requireAuth: RequireAuth
  broker: Broker
  outbox: Outbox
}

/**
 * Outbound webhooks: MQTT messages to HTTP POSTs through the outbox, and the
 * `webhook` action, which goes through the outbox like every delivery.
 */
export function composeWebhookTargets(deps: WebhookTargetsDeps): WebhookTargetsModule {
  const { config, db, log, now, requireAuth, broker, outbox } = deps
  const targets = createTargetRegistry({ db, config: config.webhooks, now, log })
  const client = createWebhookClient({ now })
  const bridge = createWebhookBridge({ broker, outbox, targets, client, log, now })
  const action = createWebhookAction({ outbox, targets, client, now })
  outbox.register(ACTION_WEBHOOK_KIND, action.handler)
  return {
    name: 'webhook-targets',
    targets,
    services: [{ service: bridge, restart: true }],
    api: [{ path: '/webhook-targets', router: createWebhookTargetsApi({ targets, requireAuth }) }],
    actions: { webhook: action.executor },
    reload: [
      {
        // Targets' subscriptions follow their registry's change notices.
        keys: ['webhooks'],
        apply(next) {
          targets.setConfig(next.webhooks)
          return undefined
        },
      },
    ],
  }
}

/** Inbound webhooks: `/hooks/:name` publishes to the broker; its API and capture. */
export function composeInboundHooks(
  deps: HubBasics & { requireAuth: RequireAuth; broker: Broker },
): HubModule {
  const { config, db, bus, log, now, requireAuth, broker } = deps
  const { registry, receiver, housekeeping } = createInboundHooks({
    config,
    db,
    bus,
    log,
    now,
    publish: (m) => broker.publish(m),
  })
  return {
    name: 'hooks',
    services: [{ service: housekeeping, restart: true }],
    api: [{ path: '/hooks', router: createHooksApi({ registry, receiver, db, requireAuth }) }],
    routes: [{ path: '/hooks', router: createHookEndpoint({ receiver }) }],
    reload: [
      {
        keys: ['hooks'],
        apply(next) {
          registry.setConfig(next.hooks)
          return undefined
        },
      },
    ],
    // The parsed body is for rules with a hook trigger: bodies never fill the event log.
    transientEvents: ['hook.body'],
  }
}
