// A session: what outlives a connection [MQTT-4.1]. Subscriptions, the messages queued for the
// client, those in flight to it, the QoS 2 packet ids received from it, and its will.
import type { Connection } from './connection.ts'
import { SmallMap } from './small-map.ts'
import type { ProtocolLevel, QueuedMessage, StoredSession, Subscription, Will } from './types.ts'

/** Session Expiry Interval meaning "never expires" (§3.1.2.11.2). */
export const NEVER = 0xffffffff

/**
 * The queue of every session that has queued nothing: frozen, so a push that bypasses
 * `Session.enqueue` fails loudly instead of queueing for everyone.
 */
export const NO_QUEUE: QueuedMessage[] = Object.freeze([]) as unknown as QueuedMessage[]

export class Session {
  conn: Connection | null = null
  /** By the filter as subscribed (a `$share/<group>/` prefix kept). */
  readonly subs = new SmallMap<string, Subscription>()
  /** Messages not yet sent, oldest first; the shared empty one until the first (see `enqueue`). */
  queue: QueuedMessage[] = NO_QUEUE
  queuedBytes = 0
  /** Sent and not yet completed, by packet id [MQTT-4.4.0-1]. */
  inflight: Map<number, QueuedMessage> | undefined
  nextPacketId = 1
  seq = 0
  /** QoS 2 packet ids PUBRECed and not yet released [MQTT-4.3.3-10]; made when first needed. */
  private incoming: Set<number> | undefined
  will: Will | undefined
  /** Epoch ms at which a delayed will is published; 0 when none is pending [MQTT-3.1.3-9]. */
  willAt = 0
  /** Messages dropped in the current queue-overflow episode; 0 when not overflowing. */
  overflowDropped = 0

  constructor(
    readonly clientId: string,
    public owner: string | undefined,
    public protocolLevel: ProtocolLevel,
    /** Seconds; 0 ends the session with the connection, NEVER keeps it. */
    public expiryInterval: number,
    public disconnectedAt: number | undefined,
  ) {}

  /**
   * Whether the store holds a row for it: every persistent session, and a clean one with a will,
   * so a will outlives a crash of the hub [MQTT-3.1.2-8].
   */
  stored = false

  /** Queues a message; most sessions never do, and hold no array of their own. */
  enqueue(item: QueuedMessage): void {
    if (this.queue === NO_QUEUE) this.queue = [item]
    else this.queue.push(item)
  }

  get persistent(): boolean {
    return this.expiryInterval > 0
  }

  /** Epoch ms at which a disconnected session ends, Infinity when it never does. */
  expiresAt(): number {
    if (this.disconnectedAt === undefined || this.expiryInterval === NEVER) return Number.POSITIVE_INFINITY
    return this.disconnectedAt + this.expiryInterval * 1000
  }

  get inflightCount(): number {
    return this.inflight?.size ?? 0
  }

  track(packetId: number, item: QueuedMessage): void {
    this.inflight ??= new Map()
    this.inflight.set(packetId, item)
  }

  /** Ends an outgoing flow; the map goes once empty, so an idle session holds none. */
  untrack(packetId: number): QueuedMessage | undefined {
    const item = this.inflight?.get(packetId)
    if (!item) return undefined
    this.inflight!.delete(packetId)
    if (this.inflight!.size === 0) this.inflight = undefined
    return item
  }

  hasIncoming(packetId: number): boolean {
    return this.incoming?.has(packetId) ?? false
  }

  addIncoming(packetId: number): void {
    this.incoming ??= new Set()
    this.incoming.add(packetId)
  }

  /** False when the id was not awaiting PUBREL. */
  releaseIncoming(packetId: number): boolean {
    return this.incoming?.delete(packetId) ?? false
  }

  get incomingCount(): number {
    return this.incoming?.size ?? 0
  }

  /** The next free packet id, never 0 [MQTT-2.2.1-3]; undefined when all 65,535 are in flight. */
  allocatePacketId(): number | undefined {
    const inflight = this.inflight
    if (inflight && inflight.size >= 65535) return undefined
    let id = this.nextPacketId
    while (inflight?.has(id)) id = id === 65535 ? 1 : id + 1
    this.nextPacketId = id === 65535 ? 1 : id + 1
    return id
  }

  static fromStored(s: StoredSession): Session {
    const session = new Session(s.clientId, s.owner, s.protocolLevel, s.expiryInterval, s.disconnectedAt)
    for (const sub of s.subscriptions) session.subs.set(sub.filter, sub)
    for (const item of s.queue) {
      if (item.seq > session.seq) session.seq = item.seq
      if (item.packetId !== undefined && item.state !== undefined && item.state !== 'queued') {
        session.track(item.packetId, item)
      } else {
        session.enqueue(item)
        session.queuedBytes += item.message.payload.length
      }
    }
    for (const id of s.incomingQos2) session.addIncoming(id)
    session.will = s.will
    session.stored = true
    return session
  }
}
