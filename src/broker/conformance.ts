import type { AedesPublishPacket, Client, ConnectPacket, PublishPacket, Subscription } from 'aedes'
import type { Logger } from '../log.ts'
import { addClientTap, refuseConnect, type TappedClient, type WirePacket } from './client-tap.ts'
import type { BrokerPlugin } from './hooks.ts'
import { connectError } from './hooks.ts'
import { isValidFilter, topicMatches } from './topic-filter.ts'

export interface ConformanceOptions {
  log: Logger
  /** Topics and filters with more levels are refused. */
  maxTopicLevels: number
}

/** Where an invalid filter is parked so Aedes' own validation lets the SUBSCRIBE through to us. */
const INVALID_FILTER = '$hearth/invalid-filter'
const invalid = Symbol('invalid filter')
type Marked = { [invalid]?: string }

/**
 * Fixes for Aedes 1.2's departures from MQTT 3.1.1 (issue 3 point 6), each citing its clause.
 * Runs before auth and the ACL so they only see well-formed packets.
 */
export function createConformance(opts: ConformanceOptions): BrokerPlugin {
  const log = opts.log.child('conformance')
  let untap: (() => void) | undefined

  const badTopic = (topic: string): string | undefined => {
    // [MQTT-1.5.3-2] a UTF-8 string must not contain U+0000.
    if (topic.includes('\u0000')) return 'topic contains U+0000'
    // [MQTT-3.3.2-2] a topic name must not contain wildcards.
    if (topic.includes('+') || topic.includes('#')) return 'wildcard in a topic name'
    if (levels(topic) > opts.maxTopicLevels) return `more than ${opts.maxTopicLevels} topic levels`
    return undefined
  }

  /**
   * Aedes disconnects on a filter it finds malformed (and lets some through: `a/b#`, `a+`), before
   * `authorizeSubscribe` runs. Park each bad filter on a placeholder Aedes accepts; our
   * `authorizeSubscribe` refuses it, so the client gets SUBACK 0x80 for that filter alone.
   */
  function checkFilters(packet: WirePacket) {
    let n = 0
    for (const sub of packet.subscriptions ?? []) {
      const filter = sub.topic
      // [MQTT-4.7.1-2] `#` alone and last, [MQTT-4.7.1-3] `+` a whole level, [MQTT-1.5.3-2] no U+0000.
      if (isValidFilter(filter) && levels(filter) <= opts.maxTopicLevels) continue
      ;(sub as Marked)[invalid] = filter
      // Distinct placeholders: Aedes merges equal filters of one SUBSCRIBE, which would shorten the SUBACK.
      sub.topic = `${INVALID_FILTER}/${n++}`
    }
  }

  return {
    name: 'conformance',

    attach(aedes) {
      untap = addClientTap(
        aedes,
        {
          packet(_client, packet) {
            if (packet.cmd === 'subscribe') checkFilters(packet)
          },
        },
        log,
      )
    },
    detach() {
      untap?.()
      untap = undefined
    },

    async preConnect(client: Client, packet: ConnectPacket) {
      const id = packet.clientId ?? ''
      // [MQTT-3.1.3-8] a zero-length client id with CleanSession=0 gets CONNACK 0x02 and is closed;
      // MQTT 3.1 (protocol level 3) requires 1 to 23 characters.
      if (id === '' && (packet.clean === false || packet.protocolVersion === 3)) {
        await refuseConnect(client as TappedClient, 2, 'identifier rejected')
      }
      // [MQTT-3.1.2-14] the will topic is a topic name; Aedes stores it unchecked.
      const will = packet.will?.topic
      const why = will === undefined ? undefined : will === '' ? 'empty will topic' : badTopic(will)
      if (why) throw connectError(2, `malformed will: ${why}`)
    },

    authorizePublish(_client: Client | null, packet: PublishPacket) {
      // Aedes refuses wildcards and too deep topics itself, but not U+0000; checked once here for all.
      const why = badTopic(packet.topic)
      if (why) throw new Error(`malformed PUBLISH topic: ${why}`)
    },

    authorizeSubscribe(_client: Client, sub: Subscription) {
      const original = (sub as Marked)[invalid]
      if (original === undefined) return sub
      log.debug('malformed topic filter refused', { filter: JSON.stringify(original) })
      return null
    },

    authorizeForward(client: Client, packet: AedesPublishPacket) {
      // [MQTT-3.8.4-6] deliver at no more than the granted QoS. Aedes only looks up a subscription
      // whose filter equals the topic, so a message reaching a client through a wildcard kept its
      // publisher's QoS. [MQTT-3.3.5-1] with overlapping subscriptions the highest grant applies.
      if (packet.qos === 0) return packet
      const granted = grantedQos(client as TappedClient, packet.topic)
      // No matching subscription (a queued session message after an unsubscribe): leave it alone.
      if (granted === undefined || granted >= packet.qos) return packet
      // Only retained messages go out below QoS 1 on this path; Aedes would keep a QoS 0 copy of a
      // queued message as in flight forever.
      if (granted === 0 && !packet.retain) return packet
      packet.qos = granted as 0 | 1 | 2
      return packet
    },
  }
}

function levels(topic: string): number {
  let n = 1
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 47) n++
  return n
}

function grantedQos(client: TappedClient, topic: string): number | undefined {
  let best: number | undefined
  for (const filter in client.subscriptions) {
    if (!topicMatches(filter, topic)) continue
    const qos = client.subscriptions[filter]?.qos ?? 0
    if (best === undefined || qos > best) best = qos
  }
  return best
}
