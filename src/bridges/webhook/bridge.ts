import type { Broker } from '../../broker/broker.ts'
import type { Logger } from '../../log.ts'
import type { InProcessSubscriber } from '../../mqtt/types.ts'
import type { Outbox } from '../../outbox/outbox.ts'
import { type DeliveryHandler, Outcome } from '../../outbox/types.ts'
import type { Service } from '../../runtime/service.ts'
import type { WebhookClient } from './client.ts'
import { type QueuedMessage, requestBody, requestHeaders } from './message.ts'
import type { TargetRegistry } from './targets.ts'

/** The outbox kind of outbound webhook deliveries. */
export const WEBHOOK_KIND = 'webhook'

interface WebhookBridgeOptions {
  broker: Broker
  outbox: Outbox
  targets: TargetRegistry
  client: WebhookClient
  log: Logger
  now?: () => number
}

/**
 * MQTT → HTTP: an in-process subscription per enabled target. A matching
 * message is only enqueued into the outbox; the outbox's workers do the HTTP.
 */
export function createWebhookBridge(opts: WebhookBridgeOptions): Service & { handler: DeliveryHandler } {
  const log = opts.log.child('webhooks')
  const now = opts.now ?? Date.now
  const subscribed = new Map<string, () => void>()
  let stopListening: (() => void) | undefined

  const listener =
    (name: string): InProcessSubscriber =>
    (packet) => {
      const message: QueuedMessage = {
        topic: packet.topic,
        payload: Buffer.from(packet.payload ?? '').toString('base64'),
        qos: packet.qos,
        retain: packet.retain,
        ts: now(),
      }
      // The broker waits for the commit (same tick, batched), so a QoS 1/2 PUBACK is sent only
      // once the delivery is on disk; routing to other subscribers is not held up.
      return opts.outbox.enqueue({ kind: WEBHOOK_KIND, target: name, payload: message }).then(
        () => undefined,
        (err: unknown) => {
          log.error('could not queue a webhook delivery', { target: name, topic: packet.topic, err })
        },
      )
    }

  const unsubscribe = (name: string) => {
    const remove = subscribed.get(name)
    if (!remove) return
    subscribed.delete(name)
    remove()
  }

  const sync = (name: string) => {
    unsubscribe(name)
    const target = opts.targets.get(name)
    if (!target?.enabled) return
    // [MQTT-4.7.2-1] the engine does not match `$` topics with a leading wildcard.
    subscribed.set(name, opts.broker.subscribe(target.filter, listener(name)))
    log.debug('subscribed', { target: name, filter: target.filter })
  }

  const handler: DeliveryHandler = {
    concurrency: (name) => opts.targets.get(name)?.concurrency,
    async deliver(entry, signal) {
      const target = opts.targets.get(entry.target)
      if (!target) return Outcome.dead('the webhook target was deleted')
      if (!target.enabled) return Outcome.dead('the webhook target is disabled')
      const body = requestBody(target, entry.payload as QueuedMessage, entry.key)
      const headers = requestHeaders(target, body, entry.key, entry.id, now())
      return opts.client.post({ url: target.url, headers, body, timeoutMs: target.timeout }, signal)
    },
  }

  return {
    name: 'webhook-bridge',
    handler,
    start() {
      opts.outbox.register(WEBHOOK_KIND, handler)
      for (const t of opts.targets.list()) sync(t.name)
      stopListening = opts.targets.onChange(sync)
    },
    stop() {
      stopListening?.()
      stopListening = undefined
      for (const name of [...subscribed.keys()]) unsubscribe(name)
    },
  }
}
