// An EngineStore in memory: the engine's own tests and benchmarks, and the reference for what
// each operation means to a durable store.
import type { EngineStore, Message, StoredSession, StoredState, StoreOp } from './types.ts'

export interface MemoryStore extends EngineStore {
  /** Synchronous: memory is as durable as it gets at once. */
  write(ops: readonly StoreOp[]): void
  /** A copy of what is stored now. */
  snapshot(): StoredState
  /** How many `write` calls (group commits) there were. */
  readonly writes: number
}

export function createMemoryStore(initial?: StoredState): MemoryStore {
  const retained = new Map<string, Message>()
  const sessions = new Map<string, StoredSession>()
  for (const m of initial?.retained ?? []) retained.set(m.topic, m)
  for (const s of initial?.sessions ?? []) sessions.set(s.clientId, structuredClone(s))
  let writes = 0

  const apply = (o: StoreOp): void => {
    if (o.op === 'retain') {
      if (o.message) retained.set(o.topic, o.message)
      else retained.delete(o.topic)
      return
    }
    if (o.op === 'session') {
      const s = sessions.get(o.clientId)
      if (s) {
        s.owner = o.owner
        s.protocolLevel = o.protocolLevel
        s.expiryInterval = o.expiryInterval
        s.disconnectedAt = o.disconnectedAt
      } else {
        sessions.set(o.clientId, {
          clientId: o.clientId,
          owner: o.owner,
          protocolLevel: o.protocolLevel,
          expiryInterval: o.expiryInterval,
          disconnectedAt: o.disconnectedAt,
          subscriptions: [],
          queue: [],
          incomingQos2: [],
          will: undefined,
        })
      }
      return
    }
    if (o.op === 'session-delete') {
      sessions.delete(o.clientId)
      return
    }
    const s = sessions.get(o.clientId)
    if (!s) return
    switch (o.op) {
      case 'subscribe':
        s.subscriptions = s.subscriptions.filter((x) => x.filter !== o.subscription.filter)
        s.subscriptions.push({ ...o.subscription })
        break
      case 'unsubscribe':
        s.subscriptions = s.subscriptions.filter((x) => x.filter !== o.filter)
        break
      case 'enqueue':
        s.queue.push({ ...o.item })
        break
      case 'outgoing': {
        const item = s.queue.find((x) => x.seq === o.seq)
        if (item) {
          item.packetId = o.packetId
          item.state = o.state
        }
        break
      }
      case 'dequeue':
        s.queue = s.queue.filter((x) => x.seq !== o.seq)
        break
      case 'incoming':
        if (!s.incomingQos2.includes(o.packetId)) s.incomingQos2.push(o.packetId)
        break
      case 'incoming-release':
        s.incomingQos2 = s.incomingQos2.filter((x) => x !== o.packetId)
        break
      case 'will':
        s.will = o.will
        break
    }
  }

  const snapshot = (): StoredState => ({
    retained: [...retained.values()],
    sessions: [...sessions.values()].map((s) => ({
      ...s,
      subscriptions: s.subscriptions.map((x) => ({ ...x })),
      queue: s.queue.map((x) => ({ ...x })),
      incomingQos2: [...s.incomingQos2],
    })),
  })

  return {
    load: snapshot,
    write(ops) {
      writes++
      for (const o of ops) apply(o)
    },
    snapshot,
    get writes() {
      return writes
    },
  }
}
