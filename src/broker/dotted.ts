import type { Client } from 'aedes'
import type { Logger } from '../log.ts'
import { addClientTap, type WirePacket } from './client-tap.ts'
import type { BrokerPlugin } from './hooks.ts'

export interface DottedTopicsOptions {
  log: Logger
  /** Every client gets dotted topics. */
  all: boolean
  /** Client ids or usernames that get them when `all` is off. */
  clients: readonly string[]
}

/**
 * RabbitMQ's MQTT plugin treats `.` as a level separator like `/` (issue 3 point 9): firmware of
 * source system (a) subscribes to `webos.smarthome.#` and expects what is published to
 * `webos.smarthome.info`. For a dotted client every topic and filter it sends is rewritten to
 * `/` before Aedes, the ACL or the persistence see it, so its deliveries carry `/`, as RabbitMQ's do.
 */
export function createDottedTopics(opts: DottedTopicsOptions): BrokerPlugin & {
  /** Whether this connected client's topics are dotted. */
  isDotted(client: Client): boolean
} {
  const log = opts.log.child('dotted')
  const named = new Set(opts.clients)
  const dotted = new WeakSet<Client>()
  let untap: (() => void) | undefined

  const wants = (packet: WirePacket) =>
    opts.all ||
    (packet.clientId !== undefined && named.has(packet.clientId)) ||
    (packet.username !== undefined && named.has(packet.username))

  function rewrite(client: Client, packet: WirePacket) {
    switch (packet.cmd) {
      case 'connect':
        if (!wants(packet)) return
        dotted.add(client)
        if (packet.will) packet.will.topic = slashes(packet.will.topic)
        return
      case 'publish':
        if (dotted.has(client) && packet.topic) packet.topic = slashes(packet.topic)
        return
      case 'subscribe':
        if (dotted.has(client)) for (const s of packet.subscriptions ?? []) s.topic = slashes(s.topic)
        return
      case 'unsubscribe':
        if (dotted.has(client) && packet.unsubscriptions)
          packet.unsubscriptions = packet.unsubscriptions.map(slashes)
        return
    }
  }

  return {
    name: 'dotted-topics',
    isDotted: (client) => dotted.has(client),
    attach(aedes) {
      if (!opts.all && named.size === 0) return
      untap = addClientTap(aedes, { packet: rewrite }, log)
    },
    detach() {
      untap?.()
      untap = undefined
    },
  }
}

function slashes(topic: string): string {
  return topic.includes('.') ? topic.replaceAll('.', '/') : topic
}
