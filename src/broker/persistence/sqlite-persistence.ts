import type { Database } from 'bun:sqlite'
import { Readable } from 'node:stream'
import type { Logger } from '../../log.ts'
import type { BrokerPlugin } from '../hooks.ts'
import { type AckJournal, createAckJournal } from './ack-journal.ts'
import { createIncomingStore, type IncomingStore } from './incoming.ts'
import { createOutgoingStore, type OutgoingStore } from './outgoing.ts'
import { createDurableAckPlugin, type RecoveringBroker, recoverPreviousRun } from './recovery.ts'
import { createRetainedStore, type RetainedStore } from './retained.ts'
import { createSubscriptionStore, type SubscriptionStore } from './subscriptions.ts'
import type { AedesAsyncPersistence, PersistenceBroker } from './types.ts'
import { createWillStore, type WillStore } from './wills.ts'
import { type BatchWriter, createBatchWriter } from './writer.ts'

export interface SqlitePersistenceOptions {
  /** The hub's database, migrated (tables of migration 002). The persistence never closes it. */
  db: Database
  log: Logger
}

/** Aedes' async persistence on SQLite, plus the plugin that makes a PUBACK mean "stored". */
export interface SqlitePersistence extends AedesAsyncPersistence {
  /** Put it last in the broker's plugins: it makes a QoS 1 PUBACK wait for the journal (recovery.ts). */
  readonly plugin: BrokerPlugin
  /** Retained messages stored (for $SYS and metrics). */
  readonly retainedCount: number
}

interface Stores {
  writer: BatchWriter
  retained: RetainedStore
  subscriptions: SubscriptionStore
  outgoing: OutgoingStore
  incoming: IncomingStore
  wills: WillStore
  journal: AckJournal
}

/**
 * Builds the persistence; it touches the database only in `setup()`, which Aedes awaits while it
 * starts (and which first routes what a killed run left, recovery.ts). Statements run in call
 * order, one transaction per event-loop turn (writer.ts); what Aedes awaits before it acknowledges
 * (SUBACK, PUBREC, and with the plugin PUBACK) is committed by then.
 */
export function createSqlitePersistence(opts: SqlitePersistenceOptions): SqlitePersistence {
  const log = opts.log.child('mqtt-store')
  let broker: PersistenceBroker | undefined
  let stores: Stores | undefined
  let destroyed = false

  const s = (): Stores => {
    if (!stores) throw new Error('the MQTT persistence is not set up')
    return stores
  }

  const persistence: SqlitePersistence = {
    get broker() {
      return broker
    },
    get retainedCount() {
      return stores?.retained.count ?? 0
    },
    plugin: createDurableAckPlugin(() => s(), log),

    // Aedes refuses a setup() that is not a native async function.
    async setup(b) {
      broker = b
      stores?.writer.close()
      const { db } = opts
      const writer = createBatchWriter(db, (err) => log.error('committing MQTT state failed', { err }))
      stores = {
        writer,
        retained: createRetainedStore(db, writer),
        subscriptions: createSubscriptionStore(db, writer),
        outgoing: createOutgoingStore(db, writer),
        incoming: createIncomingStore(db, writer),
        wills: createWillStore(db, writer),
        journal: createAckJournal(db, writer),
      }
      // Aedes never calls destroy(): commit what closing clients wrote before the hub closes the
      // database. (The abstract suite's stand-in broker is no emitter.)
      b.on?.('closed', () => writer.close())
      if (b.publish && b.authorizePublish) await recoverPreviousRun(b as RecoveringBroker, stores, log)
    },

    storeRetained: (packet) => s().retained.store(packet),
    createRetainedStream: (pattern) => streamOf(s().retained.match([pattern])),
    createRetainedStreamCombi: (patterns) => streamOf(s().retained.match(patterns)),

    addSubscriptions: (client, subs) => s().subscriptions.add(client.id, subs),
    removeSubscriptions: (client, topics) => s().subscriptions.remove(client.id, topics),
    cleanSubscriptions: (client) => s().subscriptions.clean(client.id),
    subscriptionsByClient: async (client) => s().subscriptions.byClient(client.id),
    subscriptionsByTopic: async (topic) => s().subscriptions.byTopic(topic),
    countOffline: async () => s().subscriptions.count(),
    getClientList: (topic) => Readable.from(s().subscriptions.clientsOf(topic)),

    outgoingEnqueue: (sub, packet) => s().outgoing.enqueue([sub.clientId], packet),
    outgoingEnqueueCombi: (subs, packet) =>
      s().outgoing.enqueue(
        subs.map((sub) => sub.clientId),
        packet,
      ),
    outgoingUpdate: (client, packet) => s().outgoing.update(client.id, packet),
    // Aedes may pass a bare messageId-less value here (the suite passes a number).
    outgoingClearMessageId: (client, packet) => s().outgoing.clear(client.id, packet?.messageId),
    outgoingStream: (client) => s().outgoing.stream(client.id),

    incomingStorePacket: (client, packet) => s().incoming.store(client.id, packet),
    incomingGetPacket: (client, packet) => s().incoming.get(client.id, packet.messageId),
    incomingDelPacket: (client, packet) => s().incoming.del(client.id, packet.messageId),
    cleanIncoming: (client) => s().incoming.clean(client.id),

    putWill(client, packet) {
      const { wills } = s()
      const brokerId = (broker as PersistenceBroker).id
      // Aedes and the suite read these back from the packet they passed in (memory persistence).
      packet.brokerId = brokerId
      packet.clientId = client.id
      return wills.put(client.id, brokerId, packet)
    },
    getWill: (client) => s().wills.get(client.id),
    delWill: (client) => s().wills.del(client.id),
    streamWill: (brokers = {}) => streamOf(s().wills.orphans(brokers)),

    async destroy() {
      if (destroyed) throw new Error('the MQTT persistence was destroyed twice')
      destroyed = true
      s().writer.close()
    },
  }
  return persistence
}

/** A stream of what `items` resolves to; the lookup is queued now, so it sees the state as of this call. */
function streamOf<T>(items: Promise<T[]>): Readable {
  // Settled here too, so a rejection before anyone reads is not reported as unhandled.
  items.catch(() => {})
  return Readable.from(
    (async function* () {
      yield* await items
    })(),
  )
}
