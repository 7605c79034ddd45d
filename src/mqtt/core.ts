// The engine's state and the steps every handler shares: group commit to the store, flushing the
// output buffers, routing (match → deliver), queues and in-flight windows, retained messages,
// wills and session lifetimes. Handlers (one file per packet type) call into it.
import { ControlParser } from './codec.ts'
import type { Connection } from './connection.ts'
import { GroupCommit } from './group-commit.ts'
import { PublishWriter } from './outgoing.ts'
import { isPromise } from './promise.ts'
import { WireProperties } from './properties.ts'
import { TokenBucket } from './rate.ts'
import { NEVER, NO_QUEUE, type Session } from './session.ts'
import { topicMatches } from './topics.ts'
import { type MatchResult, SubscriptionTrie } from './trie.ts'
import {
  type Client,
  type EngineHooks,
  type EngineLimits,
  type EngineStats,
  type EngineStore,
  type Message,
  MqttError,
  type QoS,
  type QueuedMessage,
  type StoreOp,
  type Subscription,
} from './types.ts'

/** The few logger methods the engine uses; the hub's `Logger` fits. */
export interface EngineLogger {
  debug(msg: string | (() => string), fields?: Record<string, unknown>): void
  info(msg: string | (() => string), fields?: Record<string, unknown>): void
  warn(msg: string | (() => string), fields?: Record<string, unknown>): void
  error(msg: string | (() => string), fields?: Record<string, unknown>): void
}

const silent: EngineLogger = { debug() {}, info() {}, warn() {}, error() {} }

export const DEFAULT_LIMITS: EngineLimits = {
  maxPacketSize: 256 * 1024,
  maxConnections: 10_000,
  connectTimeoutMs: 10_000,
  maxPendingConnectionsPerAddress: 64,
  maxQueuedMessages: 1000,
  maxQueuedBytes: 8 * 1024 * 1024,
  maxOutgoingBytes: 4 * 1024 * 1024,
  receiveMaximum: 1024,
  topicAliasMaximum: 64,
  maxTopicLevels: 32,
  serverKeepAlive: 0,
  maxSessionExpiryInterval: NEVER,
  connectRatePerAddress: 50,
  inboundMessagesPerSecond: 1_000_000,
  inboundBytesPerSecond: 1024 * 1024 * 1024,
}

export interface EngineOptions {
  hooks?: EngineHooks
  store: EngineStore
  limits?: Partial<EngineLimits>
  log?: EngineLogger
  /** Epoch ms; injected so tests control expiry. */
  now?: () => number
  /** v5 Response Information sent when a client asks for it [MQTT-3.1.2-28]; undefined sends none. */
  responseInformation?: (client: Client) => string | undefined
  /** How often keep-alive, connect timeouts, will delays and session expiry are checked (ms). */
  sweepIntervalMs?: number
}

export class EngineCore {
  readonly hooks: EngineHooks
  readonly store: EngineStore
  readonly limits: EngineLimits
  readonly log: EngineLogger
  readonly now: () => number
  readonly responseInformation: ((client: Client) => string | undefined) | undefined

  readonly sessions = new Map<string, Session>()
  readonly connections = new Set<Connection>()
  /** Connected clients by id (CONNACK 0 sent). */
  readonly live = new Map<string, Connection>()
  readonly pendingPerAddress = new Map<string, number>()
  readonly trie = new SubscriptionTrie<Session>()
  readonly retainedByTopic = new Map<string, Message>()
  readonly parser = new ControlParser()
  readonly counters: EngineStats = {
    clientsConnected: 0,
    sockets: 0,
    sessions: 0,
    subscriptions: 0,
    retained: 0,
    messagesReceived: 0,
    messagesSent: 0,
    bytesReceived: 0,
    bytesSent: 0,
    droppedMessages: 0,
    refusedConnections: 0,
    disconnectedClients: 0,
    throttled: 0,
    queueOverflows: 0,
  }
  /** CONNECTs per second by remote address; forgotten once full again (at sweep). */
  readonly connectRate = new Map<string, TokenBucket>()
  /** Sessions waiting for a delayed will or for their expiry. */
  readonly timed = new Set<Session>()
  stopped = false
  /** A subscriber behind on its output, found while routing the PUBLISH being handled. */
  pressure: Connection | undefined
  private hubWaits: Promise<unknown>[] | undefined
  private rateSweptAt = 0

  /** Group commit of the store operations; acknowledgements wait for it. */
  readonly commits: GroupCommit
  private readonly dirty: Connection[] = []
  /** Encodes PUBLISH packets with one scratch descriptor: no object per delivery. */
  private readonly publishes = new PublishWriter()

  constructor(opts: EngineOptions) {
    this.hooks = opts.hooks ?? {}
    this.store = opts.store
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits }
    this.log = opts.log ?? silent
    this.now = opts.now ?? Date.now
    this.responseInformation = opts.responseInformation
    this.commits = new GroupCommit(this.store, (gated, after, err) => this.batchDone(gated, after, err))
  }

  // ── store ──────────────────────────────────────────────────────────────────────────────────────

  op(o: StoreOp): void {
    this.commits.op(o)
  }

  /** True when operations wait for the next write. */
  get uncommitted(): boolean {
    return this.commits.uncommitted
  }

  /** Holds the connection's output until the operations recorded so far are durable. */
  gate(conn: Connection): void {
    this.commits.gate(conn)
  }

  /** Resolves once everything recorded so far is durable. */
  durable(): Promise<void> {
    return this.commits.durable()
  }

  private batchDone(
    gated: readonly Connection[],
    after: ReadonlyArray<Message | Connection | null>,
    err: unknown,
  ): void {
    if (err) {
      // Nothing of this batch may be acknowledged: the clients resend what they did not get acked.
      this.log.error('store write failed', { err })
      for (const conn of gated) conn.close(0x80, 'store write failed', true)
    } else {
      for (const conn of gated) conn.acksHeld = 0
      for (let i = 0; i < after.length; i += 2) {
        this.firePublished(after[i] as Message, after[i + 1] as Connection | null)
      }
    }
    for (const conn of gated) this.markDirty(conn)
    this.flushAll()
  }

  // ── output ─────────────────────────────────────────────────────────────────────────────────────

  markDirty(conn: Connection): void {
    if (!conn.dirty) {
      conn.dirty = true
      this.dirty.push(conn)
    }
  }

  /** Writes every connection's pending output: once per read callback, commit or timer. */
  flushAll(): void {
    const list = this.dirty
    for (let i = 0; i < list.length; i++) {
      const conn = list[i]!
      conn.dirty = false
      conn.flush()
    }
    list.length = 0
  }

  // ── hooks ──────────────────────────────────────────────────────────────────────────────────────

  /**
   * A hook failed: an MqttError closes the client with its code, anything else is logged and
   * closes the client with 0x83 implementation specific error; the engine goes on.
   */
  hookFailed(conn: Connection | null, hook: string, err: unknown): void {
    if (err instanceof MqttError) {
      conn?.close(err.reasonCode, err.message)
      return
    }
    this.log.error(`hook ${hook} threw`, { err, clientId: conn?.id })
    conn?.close(0x83, 'implementation specific error')
  }

  private firePublished(message: Message, conn: Connection | null): void {
    const hook = this.hooks.published
    if (!hook) return
    try {
      const r = hook(message, conn)
      if (isPromise(r)) this.settlePublished(r, message, conn)
    } catch (err) {
      this.log.error('hook published threw', { err, clientId: conn?.id })
    }
  }

  /** Apart from firePublished so that it makes no closure (nor scope for one) per message. */
  private settlePublished(r: Promise<unknown>, message: Message, conn: Connection | null): void {
    const settled = r.catch((err: unknown) => this.log.error('hook published threw', { err }))
    if (conn && message.qos > 0) this.hold(conn, settled)
  }

  /**
   * Holds a publisher's output (its PUBACK/PUBREC among it) until `p` settles: what a hook or an
   * in-process subscriber does with the message is done before the client hears it was taken.
   */
  hold(conn: Connection, p: Promise<unknown>): void {
    conn.holds++
    const release = () => {
      conn.holds--
      this.markDirty(conn)
      this.flushAll()
    }
    p.then(release, release)
  }

  /** Promises of in-process subscribers to messages the hub published itself (engine.publish waits). */
  takeHubWaits(): Promise<unknown>[] | undefined {
    const w = this.hubWaits
    this.hubWaits = undefined
    return w
  }

  // ── accept and route ───────────────────────────────────────────────────────────────────────────

  /**
   * A message that passed authorization: retained, routed, and reported to `published` once the
   * operations it caused are durable. Returns how many recipients it reached.
   */
  accept(message: Message, publisher: Connection | null): number {
    // Received from clients: the hub's own publishes ($SYS among them) are not counted.
    if (publisher) this.counters.messagesReceived++
    if (message.retain) this.retain(message)
    const n = this.route(message, publisher)
    if (this.hooks.published && !this.commits.deferPublished(message, publisher)) {
      this.firePublished(message, publisher)
    }
    return n
  }

  /**
   * The routing step: match the topic, deliver to each session and in-process subscriber. The one
   * place a cluster transport would forward to other nodes.
   */
  route(message: Message, publisher: Connection | null): number {
    const match: MatchResult<Session> = this.trie.match(message.topic)
    let n = 0
    for (const entry of match.direct) {
      if (this.deliverMatching(entry.session, message, entry.subs, publisher, false)) n++
    }
    for (const group of match.shared) if (this.deliverShared(group, message)) n++
    // An in-process subscriber may keep the message (a webhook's outbox entry).
    if (match.handlers.length > 0) own(message)
    for (const handler of match.handlers) {
      n++
      try {
        const r: unknown = handler(message)
        if (message.qos > 0 && isPromise(r)) this.settleHandler(r, message, publisher)
      } catch (err) {
        this.log.error('in-process subscriber threw', { err, topic: message.topic })
      }
    }
    return n
  }

  /** Apart from route so that it makes no closure (nor scope for one) per message. */
  private settleHandler(r: Promise<unknown>, message: Message, publisher: Connection | null): void {
    const settled = r.catch((err: unknown) =>
      this.log.error('in-process subscriber failed', { err, topic: message.topic }),
    )
    if (publisher) this.hold(publisher, settled)
    else {
      this.hubWaits ??= []
      this.hubWaits.push(settled)
    }
  }

  private deliverShared(
    group: { members: Array<{ session: Session; sub: Subscription }>; next: number },
    message: Message,
  ): boolean {
    const count = group.members.length
    // §4.8.2 one member per message, round robin; a connected member is preferred
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < count; i++) {
        const idx = (group.next + i) % count
        const m = group.members[idx]!
        if (pass === 0 && !m.session.conn?.connected) continue
        if (pass === 1 && !m.session.persistent) continue
        group.next = (idx + 1) % count
        this.deliverSubscribed(m.session, message, m.sub.qos, false, m.sub.identifier)
        return true
      }
    }
    return false
  }

  /** A message to a session, given every subscription of it that matched. */
  deliverMatching(
    session: Session,
    message: Message,
    subs: readonly Subscription[],
    publisher: Connection | null,
    retained: boolean,
  ): boolean {
    let qos = -1
    let rap = false
    let ids: number[] | undefined
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[i]!
      // [MQTT-3.8.3-3] No Local: not to the connection that published it
      if (sub.noLocal && publisher !== null && publisher.id === session.clientId) continue
      if (sub.qos > qos) qos = sub.qos
      if (sub.retainAsPublished) rap = true
      if (sub.identifier) {
        ids ??= []
        ids.push(sub.identifier)
      }
    }
    if (qos < 0) return false
    // [MQTT-3.3.1-9] 3.1.1 and v5 without Retain As Published: retain 0 on live delivery;
    // [MQTT-3.3.1-12], [MQTT-3.3.1-13] with it, the publisher's flag
    const retain = retained || (rap && message.retain)
    this.deliverSubscribed(session, message, qos, retain, ids)
    return true
  }

  private deliverSubscribed(
    session: Session,
    message: Message,
    subQos: number,
    retain: boolean,
    ids: number[] | number | undefined,
  ): void {
    // [MQTT-3.8.4-8] the lower of the published QoS and the granted QoS
    const qos = Math.min(message.qos, subQos) as QoS
    if (message.expiresAt !== undefined && message.expiresAt <= this.now()) {
      this.counters.droppedMessages++
      return
    }
    const subscriptionIds = typeof ids === 'number' ? (ids > 0 ? [ids] : undefined) : ids
    const conn = session.conn
    if (qos === 0) {
      // QoS 0 is not queued for an offline session, nor beyond the outgoing bound of a client
      // that does not read; one that reads, only slower, holds its publisher back instead.
      if (!conn?.connected || conn.overOutgoingLimit()) {
        this.counters.droppedMessages++
        return
      }
      if (conn.pendingBytes() > this.limits.maxOutgoingBytes) this.pressure = conn
      this.writePublish(conn, message, 0, retain, 0, false, subscriptionIds)
      return
    }
    const m = qos === message.qos && retain === message.retain ? message : { ...message, qos, retain }
    const item: QueuedMessage = { seq: ++session.seq, message: m, subscriptionIds }
    if (
      conn?.connected &&
      session.queue.length === 0 &&
      session.inflightCount < conn.sendWindow &&
      conn.pendingBytes() <= this.limits.maxOutgoingBytes
    ) {
      const packetId = session.allocatePacketId()
      if (packetId !== undefined) {
        item.packetId = packetId
        item.state = 'sent'
        session.track(packetId, item)
        if (session.persistent) this.op({ op: 'enqueue', clientId: session.clientId, item })
        if (!this.writePublish(conn, m, qos, m.retain, packetId, false, subscriptionIds)) {
          this.complete(session, packetId)
        }
        return
      }
    }
    this.enqueue(session, item)
  }

  private enqueue(session: Session, item: QueuedMessage): void {
    const size = item.message.payload.length
    if (
      session.queue.length >= this.limits.maxQueuedMessages ||
      session.queuedBytes + size > this.limits.maxQueuedBytes
    ) {
      // New messages are dropped, the queue keeps what it has; the hook hears once per episode.
      this.counters.droppedMessages++
      this.counters.queueOverflows++
      // A connected client that reads nothing while its queue fills is closed (0x97 quota
      // exceeded); a persistent session keeps its queue for when it comes back.
      const conn = session.conn
      if (conn?.connected && conn.pendingBytes() > this.limits.maxOutgoingBytes) {
        conn.close(0x97, 'not reading: queue full')
      }
      if (session.overflowDropped++ === 0) {
        try {
          this.hooks.queueOverflow?.(session.clientId, 1)
        } catch (err) {
          this.log.error('hook queueOverflow threw', { err })
        }
      }
      return
    }
    session.enqueue(item)
    session.queuedBytes += size
    if (session.persistent) this.op({ op: 'enqueue', clientId: session.clientId, item })
  }

  /** Sends queued messages while the client's window and the outgoing bound allow (§4.9 flow control). */
  pump(session: Session): void {
    const conn = session.conn
    if (!conn?.connected) return
    while (
      session.queue.length > 0 &&
      session.inflightCount < conn.sendWindow &&
      conn.pendingBytes() <= this.limits.maxOutgoingBytes
    ) {
      const item = session.queue.shift()!
      session.queuedBytes -= item.message.payload.length
      const m = item.message
      if (m.expiresAt !== undefined && m.expiresAt <= this.now()) {
        // [MQTT-3.3.2-5] expired before it could be sent
        this.counters.droppedMessages++
        if (session.persistent) this.op({ op: 'dequeue', clientId: session.clientId, seq: item.seq })
        continue
      }
      if (m.qos === 0) {
        this.writePublish(conn, m, 0, m.retain, 0, false, item.subscriptionIds)
        if (session.persistent) this.op({ op: 'dequeue', clientId: session.clientId, seq: item.seq })
        continue
      }
      const packetId = session.allocatePacketId()
      if (packetId === undefined) {
        session.queue.unshift(item)
        session.queuedBytes += m.payload.length
        break
      }
      item.packetId = packetId
      item.state = 'sent'
      session.track(packetId, item)
      if (session.persistent) {
        this.op({ op: 'outgoing', clientId: session.clientId, seq: item.seq, packetId, state: 'sent' })
      }
      if (!this.writePublish(conn, m, m.qos, m.retain, packetId, false, item.subscriptionIds)) {
        this.complete(session, packetId)
      }
    }
    if (session.queue.length < this.limits.maxQueuedMessages) session.overflowDropped = 0
  }

  /**
   * An outgoing QoS 1/2 flow ended: acknowledged by `by` (PUBACK, PUBCOMP), or the message could
   * not be sent (no `by`).
   */
  complete(session: Session, packetId: number, by?: Connection): boolean {
    const item = session.untrack(packetId)
    if (!item) return false
    if (session.persistent) this.op({ op: 'dequeue', clientId: session.clientId, seq: item.seq })
    const delivered = this.hooks.delivered
    if (by && delivered) {
      try {
        delivered(by, item.message)
      } catch (err) {
        this.log.error('hook delivered threw', { err, clientId: by.id })
      }
    }
    return true
  }

  /**
   * Writes one PUBLISH into the connection's output buffer. False when it was not sent:
   * withheld by `authorizeForward`, or larger than the client's Maximum Packet Size [MQTT-3.1.2-24].
   */
  writePublish(
    conn: Connection,
    message: Message,
    qos: number,
    retain: boolean,
    packetId: number,
    dup: boolean,
    subscriptionIds: readonly number[] | undefined,
  ): boolean {
    let m = message
    const forward = this.hooks.authorizeForward
    if (forward) {
      let r: Message | null
      try {
        r = forward(conn, message)
      } catch (err) {
        this.hookFailed(conn, 'authorizeForward', err)
        return false
      }
      if (r === null) return false
      m = r
    }
    if (!this.publishes.write(conn, m, qos, retain, packetId, dup, subscriptionIds, this.now)) {
      this.counters.droppedMessages++
      return false
    }
    this.counters.messagesSent++
    this.markDirty(conn)
    return true
  }

  // ── retained ───────────────────────────────────────────────────────────────────────────────────

  /** [MQTT-3.3.1-5] keep the last retained message per topic; [MQTT-3.3.1-6] an empty payload clears it. */
  retain(message: Message): void {
    if (message.payload.length === 0) {
      if (!this.retainedByTopic.delete(message.topic)) return
      this.op({ op: 'retain', topic: message.topic, message: undefined })
      return
    }
    // [MQTT-3.3.1-7] QoS 0 retained messages replace the previous one like any other
    own(message)
    this.retainedByTopic.set(message.topic, message)
    this.op({ op: 'retain', topic: message.topic, message })
  }

  retainedMatching(filter: string): Message[] {
    const out: Message[] = []
    const now = this.now()
    for (const m of this.retainedByTopic.values()) {
      if (m.expiresAt !== undefined && m.expiresAt <= now) continue
      if (topicMatches(filter, m.topic)) out.push(m)
    }
    return out
  }

  // ── sessions, wills ────────────────────────────────────────────────────────────────────────────

  /** Removes a session and its subscriptions. */
  destroySession(session: Session): void {
    for (const sub of session.subs.values()) this.unsubscribeTrie(session, sub.filter)
    session.subs.clear()
    session.queue = NO_QUEUE
    session.queuedBytes = 0
    session.inflight = undefined
    this.timed.delete(session)
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId)
    if (session.stored) this.op({ op: 'session-delete', clientId: session.clientId })
    session.stored = false
  }

  unsubscribeTrie(session: Session, raw: string): void {
    if (raw.startsWith('$share/')) {
      const slash = raw.indexOf('/', 7)
      this.trie.remove(raw.slice(slash + 1), raw.slice(7, slash), session)
    } else this.trie.remove(raw, undefined, session)
  }

  subscribeTrie(session: Session, sub: Subscription): void {
    if (sub.filter.startsWith('$share/')) {
      const slash = sub.filter.indexOf('/', 7)
      this.trie.add(sub.filter.slice(slash + 1), sub.filter.slice(7, slash), session, sub)
    } else this.trie.add(sub.filter, undefined, session, sub)
  }

  /** Publishes a session's will: authorized like a PUBLISH of its client, then accepted. */
  publishWill(session: Session, conn: Connection | null): void {
    const will = session.will
    session.will = undefined
    session.willAt = 0
    if (!will) return
    if (session.stored) this.op({ op: 'will', clientId: session.clientId, will: undefined })
    let message = will.message
    // §3.1.3.2.4 the will's Message Expiry Interval counts from when it is published
    if (will.expiryInterval !== undefined)
      message = { ...message, expiresAt: this.now() + will.expiryInterval * 1000 }
    const authorize = this.hooks.authorizePublish
    if (!authorize) {
      this.accept(message, conn)
      return
    }
    const finish = (r: Message | number | undefined) => {
      if (typeof r === 'number') return
      if (r) message = r
      this.accept(message, conn)
      this.flushAll()
    }
    try {
      const r = authorize(conn, message)
      if (isPromise<Message | number | undefined>(r)) {
        r.then(finish, (err: unknown) => this.log.error('hook authorizePublish threw for a will', { err }))
      } else finish(r)
    } catch (err) {
      this.log.error('hook authorizePublish threw for a will', { err, clientId: session.clientId })
    }
  }

  /**
   * Whether a CONNECT from `address` is within `connectRatePerAddress`. A refused one takes
   * nothing, so a client retrying in a loop is let in as soon as the rate allows.
   */
  connectAllowed(address: string): boolean {
    const now = this.now()
    let bucket = this.connectRate.get(address)
    if (!bucket) {
      const rate = this.limits.connectRatePerAddress
      bucket = new TokenBucket(rate, rate, now)
      this.connectRate.set(address, bucket)
    }
    return bucket.tryTake(now)
  }

  /** Keep-alive, connect timeouts, delayed wills and session expiry. */
  sweep(): void {
    const now = this.now()
    if (this.connectRate.size > 0 && now - this.rateSweptAt > 60_000) {
      this.rateSweptAt = now
      for (const [address, bucket] of this.connectRate) if (bucket.full(now)) this.connectRate.delete(address)
    }
    for (const conn of this.connections) {
      conn.checkTimers(now)
      // A subscriber that stopped reading no longer holds its publishers back: its QoS 0 drops;
      // they resume a few at a time (their sockets gathered a backlog meanwhile).
      if (conn.waiters && conn.overOutgoingLimit()) conn.releaseWaiters(true)
    }
    for (const session of this.timed) {
      if (session.willAt > 0 && session.willAt <= now) this.publishWill(session, null)
      if (session.conn === null && session.expiresAt() <= now) {
        // [MQTT-3.1.3-9] a will still pending goes out when the session ends
        if (session.will) this.publishWill(session, null)
        this.destroySession(session)
        continue
      }
      if (session.willAt === 0 && session.expiresAt() === Number.POSITIVE_INFINITY) this.timed.delete(session)
    }
    this.flushAll()
  }

  stats(): EngineStats {
    const c = this.counters
    c.clientsConnected = this.live.size
    c.sockets = this.connections.size
    c.sessions = this.sessions.size
    c.subscriptions = this.trie.size
    c.retained = this.retainedByTopic.size
    return { ...c }
  }
}

/**
 * Gives a message the engine keeps beyond the PUBLISH being handled bytes of its own: a QoS 0
 * payload (and its forwarded properties) is a view of the read it came in (see
 * handlers/publish.ts), which it would pin whole.
 * The bytes are the same, so the object may change in place.
 */
export function own(message: Message): Message {
  const p = message.payload
  if (p.byteLength < p.buffer.byteLength) message.payload = Buffer.from(p)
  const props = message.properties
  if (props instanceof WireProperties && props.raw.byteLength < props.raw.buffer.byteLength) {
    props.raw = Buffer.from(props.raw)
  }
  return message
}
