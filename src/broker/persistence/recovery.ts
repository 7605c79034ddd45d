import type { Client } from 'aedes'
import type { Logger } from '../../log.ts'
import type { BrokerPlugin } from '../hooks.ts'
import type { AckJournal } from './ack-journal.ts'
import type { IncomingStore } from './incoming.ts'
import type { SubscriptionStore } from './subscriptions.ts'
import type { Packet, PersistenceBroker } from './types.ts'
import type { WillStore } from './wills.ts'

export interface RecoveryStores {
  journal: AckJournal
  incoming: IncomingStore
  wills: WillStore
  subscriptions: SubscriptionStore
}

type Done = (err?: Error) => void
type PublishFn = (packet: Packet, client?: Client | null | Done, done?: Done) => void

/**
 * The broker side of "nothing acknowledged is lost" (issue 3 point 3). It must be the last plugin:
 * its authorizePublish runs once the others have accepted (and possibly rewritten) the packet,
 * and its publish wrapper is the outermost.
 * - QoS 1: Aedes writes PUBACK before it routes the message (aedes 1.2 lib/handlers/publish.js),
 *   so the PUBLISH (if retained or wanted by a persistent session) is journaled first, and leaves
 *   the journal once `broker.publish` is done with it (queued for every persistent session, or
 *   dropped by the ACL).
 * - QoS 2: Aedes stores the PUBLISH before routing it and answers PUBREC after; once routed the
 *   stored copy is marked so, or a retransmission after a crash would be taken for a duplicate.
 * On start, `recoverPreviousRun` routes what a killed run left.
 */
export function createDurableAckPlugin(stores: () => RecoveryStores, log: Logger): BrokerPlugin {
  const journaled = new WeakMap<object, number>()
  let restore: (() => void) | undefined

  const report = (what: string) => (err: unknown) => log.error(what, { err })

  function routed(packet: Packet, client: Client | null, err: Error | undefined): void {
    const id = journaled.get(packet)
    if (id !== undefined) {
      journaled.delete(packet)
      // Not awaited: should this be lost, the next start routes the message once more.
      stores().journal.remove(id).catch(report('removing a routed message from the journal failed'))
    } else if (client && !err && packet.qos === 2 && typeof packet.messageId === 'number') {
      stores()
        .incoming.markRouted(client.id, packet.messageId)
        .catch(report('marking a QoS 2 message failed'))
    }
  }

  return {
    name: 'mqtt-durable-ack',

    async authorizePublish(client, packet) {
      if (!client || packet.qos !== 1) return
      const { journal, subscriptions } = stores()
      // Only a retained message or one a persistent session will queue outlives the hub; for the
      // rest a crash loses nothing a restart could deliver, so they skip the journal's two writes.
      if (!packet.retain && subscriptions.byTopic(packet.topic).length === 0) return
      journaled.set(packet, await journal.add(client.id, packet as unknown as Packet))
    },

    attach(broker) {
      const target = broker as unknown as { publish: PublishFn }
      const original = target.publish
      const wrapper: PublishFn = function (this: unknown, packet, client, done) {
        const cb = typeof client === 'function' ? client : done
        const from = typeof client === 'function' ? null : (client ?? null)
        if (!journaled.has(packet) && !(from && packet.qos === 2))
          return original.call(this, packet, client, done)
        return original.call(this, packet, from, (err?: Error) => {
          routed(packet, from, err)
          cb?.(err)
        })
      }
      target.publish = wrapper
      restore = () => {
        if (target.publish === wrapper) target.publish = original
      }
    },

    detach() {
      restore?.()
      restore = undefined
    },
  }
}

/** What recovery needs of the broker: Aedes itself (the abstract suite's stand-in has neither). */
export type RecoveringBroker = Required<Pick<PersistenceBroker, 'id' | 'publish' | 'authorizePublish'>> &
  PersistenceBroker

/**
 * Routes what a killed run journaled or stored but never routed (a message may then arrive twice,
 * never not at all), and publishes the wills of clients whose hub died [MQTT-3.1.2-8] at once
 * rather than after Aedes' four heartbeats. Run from the persistence's setup(), which Aedes awaits
 * before any client can connect: a session that reconnects finds all of it already queued.
 */
export async function recoverPreviousRun(broker: RecoveringBroker, stores: RecoveryStores, log: Logger) {
  const { journal, incoming, wills } = stores
  const publish = (packet: Packet) =>
    new Promise<boolean>((resolve) =>
      broker.publish(packet, (err) => {
        // A message that cannot be routed now never will be: logged and let go.
        if (err) log.warn('a recovered message could not be published', { topic: packet.topic, err })
        resolve(!err)
      }),
    )
  const counts = { qos1: 0, qos2: 0, wills: 0 }

  for (const { clientId, packet } of await incoming.unrouted()) {
    if (await publish(packet)) counts.qos2++
    await incoming.markRouted(clientId, packet.messageId as number)
  }
  for (const { id, packet } of await journal.all()) {
    if (await publish(packet)) counts.qos1++
    await journal.remove(id)
  }
  for (const will of await wills.orphans({ [broker.id]: true })) {
    // Published under this run's broker id: the dead run's counters could collide with queued packets.
    const { brokerId, ...packet } = will
    const allowed = await new Promise<boolean>((resolve) =>
      broker.authorizePublish(null, packet, (err) => resolve(!err)),
    )
    if (allowed && (await publish(packet))) counts.wills++
    await wills.delFrom(packet.clientId as string, brokerId as string)
  }
  if (counts.qos1 + counts.qos2 + counts.wills > 0) log.info('routed what the previous run left', counts)
}
