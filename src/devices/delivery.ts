import { attachedBroker, type BrokerPlugin } from '../broker/hooks.ts'
import { topicMatches } from '../broker/topic-filter.ts'
import type { Logger } from '../log.ts'
import type { Client, Message, Subscription } from '../mqtt/types.ts'
import type { DeviceTopic } from './topics.ts'

/** A PUBACK for a hub message, as the device's client sent it. */
export interface InboxAck {
  messageId: string
  deviceId: string
  at: number
}

interface DeliveryOptions {
  log: Logger
  inbox: DeviceTopic
  deviceOf(client: Client): string | undefined
  /** A device's client acknowledged one of the hub's inbox messages. */
  onAck(ack: InboxAck): void
  /**
   * A device can now take its inbox: it subscribed, or resumed a session that had subscribed.
   * `resend`: whether messages published to it before must go again (its session lost them).
   */
  onReady(deviceId: string, resend: boolean): void
  /** Whether an envelope's `expiresAt` has passed: an expired one still queued in a session is withheld. */
  isExpired(expiresAt: number): boolean
  now?: () => number
}

/** The broker side of messaging: which devices listen, publishing to inboxes, and their PUBACKs. */
export interface Delivery extends BrokerPlugin {
  /** Whether a connected client of the device is subscribed to its inbox. */
  listening(deviceId: string): boolean
  /** Publishes at QoS 1 to the device's inbox; resolves with the broker's error, if any. */
  publish(deviceId: string, payload: Buffer): Promise<Error | undefined>
  /** Drops the devices' subscriptions that `allowed` no longer allows (after they left a group). */
  revoke(deviceIds: readonly string[], allowed: (client: Client, filter: string) => boolean): void
}

// JSON.stringify keeps insertion order and the hub writes messageId first and expiresAt last:
// both are read at the ends of the payload without parsing a message of up to 64 KiB.
const HEAD = /^\{"messageId":"([^"\\]{1,100})"/
const EXPIRES = /"expiresAt":(\d+)\}$/

/** The hub's message id in an inbox payload, if it is one of the hub's envelopes. */
function envelopeId(payload: Buffer | string | undefined): string | undefined {
  if (payload === undefined) return undefined
  const head = typeof payload === 'string' ? payload.slice(0, 128) : payload.toString('utf8', 0, 128)
  return HEAD.exec(head)?.[1]
}

function envelopeExpiry(payload: Buffer | string): number | undefined {
  const tail =
    typeof payload === 'string'
      ? payload.slice(-40)
      : payload.toString('utf8', Math.max(0, payload.length - 40))
  const at = Number(EXPIRES.exec(tail)?.[1])
  return Number.isFinite(at) ? at : undefined
}

/**
 * Delivery to device inboxes. "Delivered" means the device's PUBACK reached the hub: the engine
 * reports each completed QoS 1 delivery, and the hub's envelope in it names the message.
 */
export function createDelivery(opts: DeliveryOptions): Delivery {
  const log = opts.log.child('delivery')
  const now = opts.now ?? Date.now
  const online = new Map<string, Set<Client>>()
  const broker = attachedBroker()

  const covers = (client: Client, topic: string) => {
    for (const s of broker.current?.subscriptionsOf(client.id) ?? [])
      if (topicMatches(s.filter, topic)) return true
    return false
  }

  return {
    name: 'device-delivery',

    connected(client) {
      const deviceId = opts.deviceOf(client)
      if (!deviceId) return
      let set = online.get(deviceId)
      if (!set) {
        set = new Set()
        online.set(deviceId, set)
      }
      set.add(client)
      // A resumed session holds its subscriptions again [MQTT-3.1.2-4]; what was published to it
      // before is in its own queue, sent by the engine.
      if (!client.cleanStart && covers(client, opts.inbox.of(deviceId))) opts.onReady(deviceId, false)
    },

    disconnected(client) {
      const deviceId = opts.deviceOf(client)
      if (!deviceId) return
      const set = online.get(deviceId)
      if (!set?.delete(client)) return
      if (set.size === 0) online.delete(deviceId)
    },

    subscribed(client, subs: readonly Subscription[]) {
      const deviceId = opts.deviceOf(client)
      if (!deviceId) return
      const topic = opts.inbox.of(deviceId)
      if (!subs.some((s) => topicMatches(s.filter, topic))) return
      // A clean session lost whatever was in flight to it; a persistent one still has it queued.
      opts.onReady(deviceId, client.cleanStart)
    },

    // [MQTT-4.3.2-5] the PUBACK tells the hub the device has taken the message.
    delivered(client, message: Message) {
      const owner = opts.inbox.deviceIn(message.topic)
      // Only the device's own PUBACK counts, not one from a monitor subscribed to every inbox.
      if (!owner || opts.deviceOf(client) !== owner) return
      const messageId = envelopeId(message.payload)
      if (messageId) opts.onAck({ messageId, deviceId: owner, at: now() })
    },

    listening(deviceId) {
      const set = online.get(deviceId)
      if (!set) return false
      const topic = opts.inbox.of(deviceId)
      for (const client of set) if (covers(client, topic)) return true
      return false
    },

    publish(deviceId, payload) {
      const b = broker.current
      if (!b?.running) return Promise.resolve(new Error('broker is not running'))
      return b.publish({ topic: opts.inbox.of(deviceId), payload, qos: 1, retain: false }).then(
        () => undefined,
        (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
      )
    },

    revoke(deviceIds, allowed) {
      for (const deviceId of deviceIds) {
        for (const client of online.get(deviceId) ?? []) {
          const filters = (broker.current?.subscriptionsOf(client.id) ?? [])
            .map((s) => s.filter)
            .filter((f) => !allowed(client, f))
          if (filters.length === 0) continue
          log.info('subscriptions revoked', { deviceId, clientId: client.id, filters })
          // The ACL is asked at SUBSCRIBE only; a subscription it would now refuse must not keep delivering.
          broker.current?.unsubscribe(client.id, filters)
        }
      }
    },

    authorizeForward(_client, message) {
      if (!opts.inbox.deviceIn(message.topic)) return message
      const expiresAt = envelopeExpiry(message.payload)
      // An envelope that expired while queued in a persistent session is not delivered late.
      if (expiresAt !== undefined && opts.isExpired(expiresAt)) {
        log.debug('withheld an expired message', { topic: message.topic })
        return null
      }
      return message
    },

    attach: broker.attach,
    detach() {
      broker.detach()
      online.clear()
    },
  }
}
