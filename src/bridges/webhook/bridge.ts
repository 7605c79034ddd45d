import type { AedesPublishPacket } from 'aedes'
import type { Broker } from '../../broker/broker.ts'
import type { Logger } from '../../log.ts'
import type { Outbox } from '../../outbox/outbox.ts'
import { type DeliveryHandler, Outcome } from '../../outbox/types.ts'
import type { Service } from '../../runtime/service.ts'
import type { WebhookClient } from './client.ts'
import { type QueuedMessage, requestBody, requestHeaders } from './message.ts'
import type { TargetRegistry } from './targets.ts'

/** The outbox kind of outbound webhook deliveries. */
export const WEBHOOK_KIND = 'webhook'

export interface WebhookBridgeOptions {
  broker: Broker
  outbox: Outbox
  targets: TargetRegistry
  client: WebhookClient
  log: Logger
  now?: () => number
}

type Deliver = (packet: AedesPublishPacket, done: () => void) => void

/**
 * MQTT → HTTP (issue 4 point 6): an in-process subscription per enabled target. A matching
 * message is only enqueued into the outbox; the outbox's workers do the HTTP.
 */
export function createWebhookBridge(opts: WebhookBridgeOptions): Service & { handler: DeliveryHandler } {
  const log = opts.log.child('webhooks')
  const now = opts.now ?? Date.now
  const subscribed = new Map<string, { filter: string; fn: Deliver }>()
  let stopListening: (() => void) | undefined

  const listener = (name: string, filter: string): Deliver => {
    // [MQTT-4.7.2-1] a filter starting with a wildcard does not match `$` topics.
    const skipDollar = filter.startsWith('+') || filter.startsWith('#')
    return (packet, done) => {
      if (skipDollar && packet.topic.startsWith('$')) return done()
      const message: QueuedMessage = {
        topic: packet.topic,
        payload: Buffer.from(packet.payload ?? '').toString('base64'),
        qos: packet.qos,
        retain: packet.retain,
        ts: now(),
      }
      // The broker's callback waits for the commit (same tick, batched), so a QoS 1/2 PUBACK
      // is sent only once the delivery is on disk; routing to other subscribers is not held up.
      opts.outbox.enqueue({ kind: WEBHOOK_KIND, target: name, payload: message }).then(done, (err) => {
        log.error('could not queue a webhook delivery', { target: name, topic: packet.topic, err })
        done()
      })
    }
  }

  const unsubscribe = (name: string) => {
    const sub = subscribed.get(name)
    if (!sub) return
    subscribed.delete(name)
    try {
      opts.broker.aedes.unsubscribe(sub.filter, sub.fn, () => {})
    } catch (err) {
      // A broker already stopped has no subscriptions left to remove.
      log.debug('unsubscribe skipped', { target: name, err })
    }
  }

  const sync = (name: string) => {
    unsubscribe(name)
    const target = opts.targets.get(name)
    if (!target?.enabled) return
    const fn = listener(name, target.filter)
    subscribed.set(name, { filter: target.filter, fn })
    opts.broker.aedes.subscribe(target.filter, fn, () => {})
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
