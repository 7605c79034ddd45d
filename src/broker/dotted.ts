import type { Logger } from '../log.ts'
import type { Client } from '../mqtt/types.ts'
import type { BrokerPlugin } from './hooks.ts'

interface DottedTopicsOptions {
  log: Logger
  /** Every client gets dotted topics. */
  all: boolean
  /** Client ids or usernames that get them when `all` is off. */
  clients: readonly string[]
}

/**
 * RabbitMQ's MQTT plugin treats `.` as a level separator like `/`: firmware of the smart-home
 * system subscribes to `webos.smarthome.#` and expects what is published to `webos.smarthome.info`.
 * For a dotted client every topic and filter it sends (PUBLISH, will, SUBSCRIBE, UNSUBSCRIBE) is
 * rewritten to `/` before the ACL or the store see it, so its deliveries carry `/`, as RabbitMQ's do.
 */
export function createDottedTopics(opts: DottedTopicsOptions): BrokerPlugin & {
  /** Whether this connected client's topics are dotted. */
  isDotted(client: Client): boolean
} {
  const named = new Set(opts.clients)
  const dotted = new WeakSet<Client>()
  const enabled = opts.all || named.size > 0

  return {
    name: 'dotted-topics',
    isDotted: (client) => dotted.has(client),
    ...(enabled && {
      preConnect(client: Client) {
        const wanted =
          opts.all || named.has(client.id) || (client.username !== undefined && named.has(client.username))
        if (wanted) dotted.add(client)
      },
      rewriteTopic(client: Client, topic: string) {
        return dotted.has(client) && topic.includes('.') ? topic.replaceAll('.', '/') : topic
      },
    }),
  }
}
