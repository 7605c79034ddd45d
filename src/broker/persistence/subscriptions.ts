import type { Database } from 'bun:sqlite'
import QlobberSub from 'qlobber/aedes/qlobber-sub'
import { QLOBBER_OPTIONS } from './topic-match.ts'
import type { ClientSubscription, Subscription } from './types.ts'
import type { BatchWriter } from './writer.ts'

/**
 * Subscriptions of persistent sessions (clean = false) [MQTT-3.1.2-4]. Every PUBLISH at QoS > 0
 * asks which of them match, so they live in memory (Aedes' own trie, as the memory persistence
 * has it) and SQLite is written behind: each call resolves once its rows are committed.
 */
export interface SubscriptionStore {
  add(clientId: string, subs: readonly Subscription[]): Promise<void>
  remove(clientId: string, topics: readonly string[]): Promise<void>
  clean(clientId: string): Promise<void>
  byClient(clientId: string): Subscription[]
  /** Matching subscriptions at QoS > 0: only those get an offline queue. */
  byTopic(topic: string): ClientSubscription[]
  count(): { subsCount: number; clientsCount: number }
  /** Clients with a subscription to exactly this filter. */
  clientsOf(topic: string): string[]
}

type Options = Omit<Subscription, 'topic'>

interface Row {
  client_id: string
  topic: string
  qos: number
  rh: number | null
  rap: number | null
  nl: number | null
  subscription_identifier: number | null
}

export function createSubscriptionStore(db: Database, writer: BatchWriter): SubscriptionStore {
  const upsert = db.query<
    void,
    [string, string, number, number | null, boolean | null, boolean | null, number | null]
  >(
    `INSERT INTO mqtt_subscriptions (client_id, topic, qos, rh, rap, nl, subscription_identifier)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
     ON CONFLICT (client_id, topic) DO UPDATE SET qos = excluded.qos, rh = excluded.rh,
       rap = excluded.rap, nl = excluded.nl, subscription_identifier = excluded.subscription_identifier`,
  )
  const removeOne = db.query<void, [string, string]>(
    'DELETE FROM mqtt_subscriptions WHERE client_id = ?1 AND topic = ?2',
  )
  const removeClient = db.query<void, [string]>('DELETE FROM mqtt_subscriptions WHERE client_id = ?1')

  // clientId → topic → options, in subscription order (getClientList answers in that order).
  const sessions = new Map<string, Map<string, Options>>()
  const trie = new QlobberSub(QLOBBER_OPTIONS)

  const put = (clientId: string, topic: string, options: Options): void => {
    let stored = sessions.get(clientId)
    if (!stored) {
      stored = new Map()
      sessions.set(clientId, stored)
    }
    const previous = stored.get(topic)
    // QoS 0 subscriptions are restored on reconnect but never queue offline messages [MQTT-3.1.2-5].
    if (options.qos > 0) {
      trie.add(topic, { clientId, topic, qos: options.qos, rh: options.rh, rap: options.rap, nl: options.nl })
    } else if (previous && previous.qos > 0) {
      trie.remove(topic, { clientId, topic })
    }
    stored.set(topic, options)
  }

  for (const r of db
    .query<Row, []>(
      'SELECT client_id, topic, qos, rh, rap, nl, subscription_identifier FROM mqtt_subscriptions ORDER BY rowid',
    )
    .all()) {
    const options: Options = {
      qos: r.qos,
      rh: r.rh ?? undefined,
      rap: r.rap === null ? undefined : r.rap === 1,
      nl: r.nl === null ? undefined : r.nl === 1,
    }
    if (r.subscription_identifier !== null) options.subscriptionIdentifier = r.subscription_identifier
    put(r.client_id, r.topic, options)
  }

  return {
    add(clientId, subs) {
      const rows: Subscription[] = []
      for (const sub of subs) {
        const options: Options = { qos: sub.qos, rh: sub.rh, rap: sub.rap, nl: sub.nl }
        // MQTT 5 subscription identifier: kept only when present, so v3 subscriptions keep their shape.
        if (sub.subscriptionIdentifier !== undefined)
          options.subscriptionIdentifier = sub.subscriptionIdentifier
        put(clientId, sub.topic, options)
        rows.push({ topic: sub.topic, ...options })
      }
      return writer.run(() => {
        for (const s of rows) {
          upsert.run(
            clientId,
            s.topic,
            s.qos,
            s.rh ?? null,
            s.rap ?? null,
            s.nl ?? null,
            s.subscriptionIdentifier ?? null,
          )
        }
      })
    },

    remove(clientId, topics) {
      const stored = sessions.get(clientId)
      if (stored) {
        for (const topic of topics) {
          const previous = stored.get(topic)
          if (!previous) continue
          if (previous.qos > 0) trie.remove(topic, { clientId, topic })
          stored.delete(topic)
        }
        if (stored.size === 0) sessions.delete(clientId)
      }
      return writer.run(() => {
        for (const topic of topics) removeOne.run(clientId, topic)
      })
    },

    clean(clientId) {
      const stored = sessions.get(clientId)
      if (stored) {
        for (const [topic, options] of stored) if (options.qos > 0) trie.remove(topic, { clientId, topic })
        sessions.delete(clientId)
      }
      return writer.run(() => {
        removeClient.run(clientId)
      })
    },

    byClient(clientId) {
      const stored = sessions.get(clientId)
      return stored ? [...stored].map(([topic, options]) => ({ topic, ...options })) : []
    },

    byTopic: (topic) => trie.match(topic),

    count: () => ({ subsCount: trie.subscriptionsCount, clientsCount: sessions.size }),

    clientsOf(topic) {
      const out: string[] = []
      for (const [clientId, stored] of sessions) if (stored.has(topic)) out.push(clientId)
      return out
    },
  }
}
