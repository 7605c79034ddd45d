import type { Aedes, AedesPublishPacket, Client, Subscription } from 'aedes'
import { addClientTap, type TappedClient, type WirePacket } from '../broker/client-tap.ts'
import type { BrokerPlugin } from '../broker/hooks.ts'
import { topicMatches } from '../broker/topic-filter.ts'
import type { Logger } from '../log.ts'
import type { DeviceTopic } from './topics.ts'

/** A PUBACK for a hub message, as the device's client sent it. */
export interface InboxAck {
  messageId: string
  deviceId: string
  at: number
}

export interface DeliveryOptions {
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
export function envelopeId(payload: Buffer | string | undefined): string | undefined {
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

/** Aedes' client with the packet-id counter it numbers outgoing QoS > 0 packets with (lib/qos-packet.js). */
type NumberedClient = Client & { _nextId: number; subscriptions: Record<string, unknown> }

/** The next packet id, taken exactly as Aedes' QoSPacket takes it, so the two never hand out the same one. */
function takePacketId(client: NumberedClient): number {
  const id = client._nextId
  client._nextId = id >= 65535 ? 1 : id + 1
  return id
}

/**
 * Delivery to device inboxes (issue 7 point 2). "Delivered" means the device's PUBACK reached the
 * hub. Aedes' `ack` event carries the acknowledged packet only for persistent sessions (it keeps
 * no record of in-flight packets of clean ones), so the hub numbers its inbox packets itself: in
 * `authorizeForward` it gives the copy going to a device the next packet id of that client,
 * remembers which message that id carries, and matches the PUBACK it reads off the connection.
 */
export function createDelivery(opts: DeliveryOptions): Delivery {
  const log = opts.log.child('delivery')
  const now = opts.now ?? Date.now
  const online = new Map<string, Set<Client>>()
  // Per client: packet id → hub message id, for inbox packets in flight.
  const inflight = new WeakMap<Client, Map<number, string>>()
  let aedes: Aedes | undefined
  let detach: (() => void) | undefined

  const covers = (client: Client, topic: string) => {
    for (const filter of Object.keys((client as NumberedClient).subscriptions ?? {}))
      if (topicMatches(filter, topic)) return true
    return false
  }

  const track = (client: Client, packetId: number, messageId: string) => {
    let map = inflight.get(client)
    if (!map) {
      map = new Map()
      inflight.set(client, map)
    }
    map.set(packetId, messageId)
  }

  const onClient = (client: Client) => {
    const deviceId = opts.deviceOf(client)
    if (!deviceId) return
    let set = online.get(deviceId)
    if (!set) {
      set = new Set()
      online.set(deviceId, set)
    }
    set.add(client)
  }

  // After the CONNACK (a PUBLISH must not precede it). A resumed session holds its subscriptions
  // again [MQTT-3.1.2-4]; what was published to it before is in its own queue, sent by Aedes.
  const onReady = (client: Client) => {
    const deviceId = opts.deviceOf(client)
    if (deviceId && !client.clean && covers(client, opts.inbox.of(deviceId))) opts.onReady(deviceId, false)
  }

  const onDisconnect = (client: Client) => {
    inflight.delete(client)
    const deviceId = opts.deviceOf(client)
    if (!deviceId) return
    const set = online.get(deviceId)
    if (!set?.delete(client)) return
    if (set.size === 0) online.delete(deviceId)
  }

  const onSubscribe = (subs: Subscription[], client: Client) => {
    const deviceId = opts.deviceOf(client)
    if (!deviceId) return
    const topic = opts.inbox.of(deviceId)
    if (!subs.some((s) => (s.qos as number) !== 128 && topicMatches(s.topic, topic))) return
    // A clean session lost whatever was in flight to it; a persistent one still has it queued.
    opts.onReady(deviceId, client.clean)
  }

  // [MQTT-2.3.1-6] a PUBACK carries the packet id of the PUBLISH it acknowledges.
  const onPacket = (client: TappedClient, packet: WirePacket) => {
    if (packet.cmd !== 'puback') return
    const packetId = (packet as WirePacket & { messageId?: number }).messageId
    const map = inflight.get(client)
    if (packetId === undefined || !map) return
    const messageId = map.get(packetId)
    if (messageId === undefined) return
    map.delete(packetId)
    const deviceId = opts.deviceOf(client)
    if (deviceId) opts.onAck({ messageId, deviceId, at: now() })
  }

  return {
    name: 'device-delivery',

    listening(deviceId) {
      const set = online.get(deviceId)
      if (!set) return false
      const topic = opts.inbox.of(deviceId)
      for (const client of set) if (covers(client, topic)) return true
      return false
    },

    publish(deviceId, payload) {
      const broker = aedes
      if (!broker || broker.closed) return Promise.resolve(new Error('broker is not running'))
      return new Promise((resolve) =>
        broker.publish(
          { cmd: 'publish', topic: opts.inbox.of(deviceId), payload, qos: 1, retain: false, dup: false },
          (err) => resolve(err ?? undefined),
        ),
      )
    },

    revoke(deviceIds, allowed) {
      for (const deviceId of deviceIds) {
        for (const client of online.get(deviceId) ?? []) {
          const filters = Object.keys((client as NumberedClient).subscriptions).filter(
            (f) => !allowed(client, f),
          )
          if (filters.length === 0) continue
          log.info('subscriptions revoked', { deviceId, clientId: client.id, filters })
          // The ACL is asked at SUBSCRIBE only; a subscription it would now refuse must not keep delivering.
          client.unsubscribe(
            { unsubscriptions: filters } as unknown as Parameters<Client['unsubscribe']>[0],
            (err) => {
              if (err) log.warn('could not revoke subscriptions', { deviceId, clientId: client.id, err })
            },
          )
        }
      }
    },

    authorizeForward(client, packet: AedesPublishPacket) {
      const owner = opts.inbox.deviceIn(packet.topic)
      if (!owner) return packet
      const payload = packet.payload as Buffer | string
      const messageId = envelopeId(payload)
      if (!messageId) return packet
      const expiresAt = envelopeExpiry(payload)
      // An envelope that expired while queued in a persistent session is not delivered late.
      if (expiresAt !== undefined && opts.isExpired(expiresAt)) {
        log.debug('withheld an expired message', { topic: packet.topic, messageId })
        return null
      }
      // Only the device's own PUBACK counts, not one from a monitor subscribed to every inbox.
      if (packet.qos === 0 || opts.deviceOf(client) !== owner) return packet
      // A packet from a session's queue already has its id; a live one is numbered here, on a
      // copy: the same packet object goes to every subscriber.
      const numbered = packet.messageId
        ? packet
        : { ...packet, messageId: takePacketId(client as NumberedClient) }
      track(client, numbered.messageId as number, messageId)
      return numbered as AedesPublishPacket
    },

    attach(broker) {
      aedes = broker
      broker.on('client', onClient)
      broker.on('clientReady', onReady)
      broker.on('clientDisconnect', onDisconnect)
      broker.on('subscribe', onSubscribe)
      const untap = addClientTap(broker, { packet: onPacket }, log)
      detach = () => {
        broker.off('client', onClient)
        broker.off('clientReady', onReady)
        broker.off('clientDisconnect', onDisconnect)
        broker.off('subscribe', onSubscribe)
        untap()
      }
    },
    detach() {
      detach?.()
      detach = undefined
      aedes = undefined
      online.clear()
    },
  }
}
