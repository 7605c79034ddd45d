import type { Database } from 'bun:sqlite'
import type { Hono } from 'hono'
import { createWebhookBridge } from '../bridges/webhook/bridge.ts'
import { createWebhookClient, type WebhookClient } from '../bridges/webhook/client.ts'
import { createTargetRegistry, type TargetRegistry } from '../bridges/webhook/targets.ts'
import type { Broker } from '../broker/broker.ts'
import type { Bus } from '../bus/bus.ts'
import type { Config } from '../config/schema.ts'
import type { ApiMount } from '../http/api.ts'
import type { RequireAuth } from '../http/auth/middleware.ts'
import { createHookEndpoint, createHooksApi } from '../http/routes/hooks.ts'
import { createOutboxApi } from '../http/routes/outbox.ts'
import { createWebhookTargetsApi } from '../http/routes/webhook-targets.ts'
import type { Logger } from '../log.ts'
import { createOutbox, type Outbox } from '../outbox/outbox.ts'
import type { ServiceEntry } from '../runtime/service.ts'
import { createHookReceiver } from './receiver.ts'
import { createHookRegistry, type HookRegistry } from './registry.ts'
import { createHookHousekeeping } from './service.ts'

export interface WebhookEdgeOptions {
  config: Pick<Config, 'hooks' | 'hookDeliveries' | 'webhooks' | 'outbox'>
  db: Database
  bus: Bus
  log: Logger
  broker: Broker
  requireAuth: RequireAuth
  now?: () => number
  /** The outbound HTTP client (tests may pass one with its own fetch). */
  webhookClient?: WebhookClient
}

/** Everything issue 4 points 4, 6 and 7 add to the hub, for `hub.ts` to mount in one place. */
export interface WebhookEdge {
  outbox: Outbox
  hooks: HookRegistry
  targets: TargetRegistry
  /** Runtime entries, in start order: after the broker, before the HTTP server. */
  services: ServiceEntry[]
  api: ApiMount[]
  routes: Array<{ path: string; router: Hono }>
}

export function createWebhookEdge(opts: WebhookEdgeOptions): WebhookEdge {
  const { config, db, bus, log, broker, requireAuth } = opts
  const now = opts.now ?? Date.now
  const outbox = createOutbox({ db, bus, log, config: config.outbox, now })
  const hooks = createHookRegistry({ db, config: config.hooks, now, log })
  const targets = createTargetRegistry({ db, config: config.webhooks, now, log })
  const receiver = createHookReceiver({
    db,
    registry: hooks,
    bus,
    log,
    now,
    captureBytes: config.hookDeliveries.captureBytes,
    // The 200 goes out only after the broker accepted the message [issue 4 point 4].
    publish: (m) => broker.publish(m),
  })
  const bridge = createWebhookBridge({
    broker,
    outbox,
    targets,
    client: opts.webhookClient ?? createWebhookClient({ now }),
    log,
    now,
  })
  const housekeeping = createHookHousekeeping({
    db,
    log,
    now,
    retentionMs: config.hookDeliveries.retention,
    rememberIdsMs: config.hookDeliveries.rememberIds,
  })
  return {
    outbox,
    hooks,
    targets,
    services: [
      { service: outbox, restart: true },
      { service: bridge, restart: true },
      { service: housekeeping, restart: true },
    ],
    api: [
      { path: '/hooks', router: createHooksApi({ registry: hooks, receiver, db, requireAuth }) },
      { path: '/webhook-targets', router: createWebhookTargetsApi({ targets, requireAuth }) },
      { path: '/outbox', router: createOutboxApi({ outbox, requireAuth }) },
    ],
    routes: [{ path: '/hooks', router: createHookEndpoint({ receiver }) }],
  }
}
