// The engine's public seam: what the hub (src/broker) sees of the MQTT engine, and what the engine
// needs from a store. Nothing here knows the hub; the hub knows nothing below this file.

/** The protocol level a client sent in CONNECT: 3 = MQTT 3.1, 4 = 3.1.1, 5 = 5.0. */
export type ProtocolLevel = 3 | 4 | 5
export type QoS = 0 | 1 | 2
/** Hooks answer at once when they can; a promise only when they must wait (a password hash). */
export type MaybePromise<T> = T | Promise<T>

/** MQTT 5 properties a PUBLISH carries from publisher to subscriber [MQTT-3.3.2.3]. */
export interface MessageProperties {
  /** 1 = the payload is UTF-8 [MQTT-3.3.2-4]. */
  payloadFormatIndicator?: 0 | 1
  contentType?: string
  responseTopic?: string
  correlationData?: Buffer
  /** In wire order, duplicates kept [MQTT-3.3.2-17], [MQTT-3.3.2-18]. */
  userProperties?: ReadonlyArray<readonly [string, string]>
}

/** A message as the engine routes, retains, queues and stores it. Treat it as immutable. */
export interface Message {
  topic: string
  payload: Buffer
  qos: QoS
  retain: boolean
  /**
   * MQTT 5 properties forwarded to subscribers. From a client's PUBLISH they are the bytes it sent,
   * decoded on first read (read-only); replace the object to change them.
   */
  properties?: MessageProperties
  /** Epoch ms after which the message is not delivered (from Message Expiry Interval) [MQTT-3.3.2-5]. */
  expiresAt?: number
}

/** A subscription as the engine keeps it. `filter` keeps a `$share/<group>/` prefix when shared. */
export interface Subscription {
  filter: string
  qos: QoS
  /** [MQTT-3.8.3-3] */
  noLocal?: boolean
  /** [MQTT-3.3.1-12], [MQTT-3.3.1-13] */
  retainAsPublished?: boolean
  /** 0 = send retained at subscribe, 1 = only if the subscription is new, 2 = never [MQTT-3.3.1-9..11]. */
  retainHandling?: 0 | 1 | 2
  /** [MQTT-3.8.2.1.2] */
  identifier?: number
}

export type Transport = 'tcp' | 'tls' | 'ws'

/** One connection as hooks see it. The engine owns it; hooks read it and may use `data`. */
export interface Client {
  /** Client identifier; assigned by the engine when the client sent an empty one (v5 tells the client). */
  readonly id: string
  readonly protocolLevel: ProtocolLevel
  readonly transport: Transport
  readonly remoteAddress: string
  /** Subject CN of a verified TLS client certificate, when the listener asked for one. */
  readonly certificateCommonName: string | undefined
  readonly username: string | undefined
  readonly keepAlive: number
  readonly cleanStart: boolean
  /** The owner the authenticate hook returned (see `EngineHooks.authenticate`). */
  readonly owner: string | undefined
  /** Set once CONNACK 0 was sent; false again after the connection closed. */
  readonly connected: boolean
  /** A slot for the hub's policy (its identity of the client, rate-limit state); the engine never reads it. */
  data: unknown
}

/** What a CONNECT asked for, beyond the client's credentials. */
export interface ConnectRequest {
  clientId: string
  protocolLevel: ProtocolLevel
  cleanStart: boolean
  keepAlive: number
  username: string | undefined
  will: Will | undefined
  /** v5 Session Expiry Interval in seconds (3.1.1: 0 for a clean session, "never" otherwise). */
  sessionExpiryInterval: number
}

export interface Will {
  message: Message
  /** v5 Will Delay Interval in seconds [MQTT-3.1.3-9]. */
  delayInterval: number
  /** v5 Message Expiry Interval of the will, seconds; counted from when it is published (§3.1.3.2.4). */
  expiryInterval?: number
}

/**
 * Who ended a connection: the client (DISCONNECT), a newer connection with the same client id, the
 * keep-alive timer, the network (closed without DISCONNECT), a protocol error of the client, a
 * limit, or the server (shutdown, administrative disconnect).
 */
export type DisconnectCause = 'client' | 'takeover' | 'keepalive' | 'lost' | 'protocol' | 'limit' | 'server'

/** Why a connection ended, as the `disconnected` hook hears it. */
export interface DisconnectInfo {
  cause: DisconnectCause
  /** v5 reason code (0 = normal DISCONNECT from the client; 0x8E takeover; 0x8D keep-alive …). */
  reasonCode: number
  /** A short English phrase for logs and events. */
  reason: string
  /** Whether the will was (or will be, after its delay) published. */
  willPublished: boolean
}

/**
 * Thrown by a hook (or returned as a number where the signature allows) to refuse with an MQTT 5
 * reason code; 3.1/3.1.1 clients get the nearest code their version has (CONNACK 1–5, SUBACK 0x80).
 */
export class MqttError extends Error {
  constructor(
    readonly reasonCode: number,
    message: string,
  ) {
    super(message)
    this.name = 'MqttError'
  }
}

/**
 * The hub's policy, called by the engine. Every hook is optional. A hook that throws anything but
 * an MqttError is logged and disconnects only that client (0x83 implementation specific error).
 */
export interface EngineHooks {
  /** Before authentication (per-address limits …). Throw MqttError to answer CONNACK with its code. */
  preConnect?(client: Client, connect: ConnectRequest): MaybePromise<void>
  /**
   * Verifies the credentials. Throw MqttError(0x86 bad user name or password / 0x87 not authorized)
   * to refuse. Returns the owner of the session: a session created by one owner is refused to
   * another one (CONNACK 0x87 / 5) and reported through `sessionRefused`.
   */
  authenticate?(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): MaybePromise<string>
  /**
   * A client's PUBLISH (or will, with the will's client), or the hub's own (client null).
   * Return undefined to allow; a reason code ≥ 0x80 to refuse it (v5: in PUBACK/PUBREC; QoS 0 and
   * 3.1.1: acknowledged and routed nowhere [MQTT-3.3.5-2]); throw MqttError to disconnect the client.
   * May return a changed message (dotted topics rewritten) to route instead.
   */
  authorizePublish?(client: Client | null, message: Message): MaybePromise<Message | number | undefined>
  /** Return the subscription (possibly changed), or a reason code ≥ 0x80 to refuse it in SUBACK. */
  authorizeSubscribe?(client: Client, sub: Subscription): MaybePromise<Subscription | number>
  /** Per delivery, synchronous: the message to send this client (possibly changed), or null to withhold it. */
  authorizeForward?(client: Client, message: Message): Message | null
  /**
   * After a message was accepted, made durable (QoS > 0) and routed. A promise it returns holds
   * back the PUBACK/PUBREC until it settles (telemetry readings stored before the acknowledgement).
   */
  published?(message: Message, client: Client | null): MaybePromise<void>
  /** After CONNACK 0 was sent. */
  connected?(client: Client): void
  /** After a connected client's connection closed (not called for refused CONNECTs). */
  disconnected?(client: Client, info: DisconnectInfo): void
  /** A CONNECT refused because the session belongs to another owner; the live connection is kept. */
  sessionRefused?(client: Client, sessionOwner: string): void
  /** A persistent session's queue was full and a message was dropped (once per episode). */
  queueOverflow?(clientId: string, dropped: number): void
  /**
   * Every topic and filter a client sends (PUBLISH, will, SUBSCRIBE, UNSUBSCRIBE) passes through
   * this first, synchronously: the hub's dotted topics (`a.b` read as `a/b`) for some clients.
   */
  rewriteTopic?(client: Client, topic: string): string
  /** After SUBACK, with the subscriptions granted (refused ones are not listed). */
  subscribed?(client: Client, subscriptions: readonly Subscription[]): void
  /** A QoS 1/2 delivery to this client completed (PUBACK, or PUBCOMP) [MQTT-4.3.2], [MQTT-4.3.3]. */
  delivered?(client: Client, message: Message): void
}

/** Resource limits the engine enforces (config `mqtt.*`). */
export interface EngineLimits {
  /** Largest packet a client may send (v5 Maximum Packet Size of the server), bytes. */
  maxPacketSize: number
  /** Connected clients over all transports; beyond it CONNACK 0x97 / 3. */
  maxConnections: number
  /** A socket that sends no CONNECT within this many ms is closed. */
  connectTimeoutMs: number
  /** Connections not yet authenticated, per remote address. */
  maxPendingConnectionsPerAddress: number
  /** Messages queued for one session (offline or beyond its window); beyond it new ones are dropped. */
  maxQueuedMessages: number
  maxQueuedBytes: number
  /** Bytes written to a socket but not yet taken by the kernel; above it QoS 0 deliveries are dropped. */
  maxOutgoingBytes: number
  /** Server Receive Maximum: QoS 1/2 PUBLISHes a client may have unacknowledged [MQTT-3.3.4-9]. */
  receiveMaximum: number
  /** Topic Alias Maximum the server accepts from clients. */
  topicAliasMaximum: number
  maxTopicLevels: number
  /** CONNECTs per second from one address; beyond it CONNACK 0x9F / 3. */
  connectRatePerAddress: number
  /** Per client: beyond these the engine stops reading that client's socket for a while. */
  inboundMessagesPerSecond: number
  inboundBytesPerSecond: number
  /** v5 Server Keep Alive override, seconds; 0 = accept the client's. */
  serverKeepAlive: number
  /** Longest session expiry the server grants, seconds. */
  maxSessionExpiryInterval: number
}

// ── Store ──────────────────────────────────────────────────────────────────────────────────────
// The engine's state lives in memory; every change that must survive a crash is written to the
// store as an operation. The engine batches the operations of one tick into one `write` (group
// commit) and sends PUBACK/PUBREC/SUBACK only after it resolved.

/** A message waiting for, or in flight to, one session's client, in order of `seq`. */
export interface QueuedMessage {
  /** Per-session sequence number, increasing. */
  seq: number
  message: Message
  /** Subscription identifiers to send with it [MQTT-3.3.4-3]. */
  subscriptionIds?: number[]
  /** Set once sent: the packet id it went out with, and where its QoS flow stands. */
  packetId?: number
  state?: 'queued' | 'sent' | 'released'
}

export interface StoredSession {
  clientId: string
  owner: string | undefined
  protocolLevel: ProtocolLevel
  /** Seconds; 0xFFFFFFFF never expires. */
  expiryInterval: number
  /** Epoch ms of the last disconnect; undefined while connected (at crash time). */
  disconnectedAt: number | undefined
  subscriptions: Subscription[]
  queue: QueuedMessage[]
  /** QoS 2 packet ids received and PUBRECed but not yet released [MQTT-4.3.3-10]. */
  incomingQos2: number[]
  will: Will | undefined
}

export interface StoredState {
  retained: Message[]
  sessions: StoredSession[]
}

export type StoreOp =
  | { op: 'retain'; topic: string; message: Message | undefined }
  | {
      op: 'session'
      clientId: string
      owner: string | undefined
      protocolLevel: ProtocolLevel
      expiryInterval: number
      disconnectedAt: number | undefined
    }
  | { op: 'session-delete'; clientId: string }
  | { op: 'subscribe'; clientId: string; subscription: Subscription }
  | { op: 'unsubscribe'; clientId: string; filter: string }
  | { op: 'enqueue'; clientId: string; item: QueuedMessage }
  | { op: 'outgoing'; clientId: string; seq: number; packetId: number; state: 'sent' | 'released' }
  | { op: 'dequeue'; clientId: string; seq: number }
  | { op: 'incoming'; clientId: string; packetId: number }
  | { op: 'incoming-release'; clientId: string; packetId: number }
  | { op: 'will'; clientId: string; will: Will | undefined }

export interface EngineStore {
  /** Everything persisted, read once at start. */
  load(): MaybePromise<StoredState>
  /** Applies the operations in order, atomically; durable when it returns or resolves. */
  write(ops: readonly StoreOp[]): MaybePromise<void>
}

// ── The engine as the hub drives it ──────────────────────────────────────────────────────────────

/** A counter snapshot for $SYS and /metrics. */
export interface EngineStats {
  clientsConnected: number
  /** Open sockets, CONNECT not yet accepted included. */
  sockets: number
  sessions: number
  subscriptions: number
  retained: number
  messagesReceived: number
  messagesSent: number
  bytesReceived: number
  bytesSent: number
  /** Deliveries dropped: outgoing buffer full (QoS 0), queue full, expired, too large for the client. */
  droppedMessages: number
  /** CONNECTs refused for capacity (max connections, pending per address, connect rate). */
  refusedConnections: number
  /** Clients disconnected by a limit (packet too large, outgoing buffer far over its bound). */
  disconnectedClients: number
  /** Times a client's reading was paused by its inbound rate. */
  throttled: number
  /** Messages dropped because a session's queue was full. */
  queueOverflows: number
}

/**
 * An in-process subscriber. A promise it returns holds back the publisher's PUBACK/PUBREC (QoS > 0)
 * until it settles: an outbound webhook is acknowledged only once its delivery is queued on disk.
 */
export type InProcessSubscriber = (message: Message) => void

export interface Engine {
  /** Loads the store; listeners may be attached after. */
  start(): Promise<void>
  /** Closes every connection (v5: DISCONNECT 0x8B server shutting down), flushes the store. */
  stop(): Promise<void>
  /** The hub's own publish (client null in hooks). Resolves once durable (retained, queued). */
  publish(message: Message): Promise<void>
  /** An in-process subscriber (rules, bridges); returns the function that removes it. */
  subscribe(filter: string, handler: InProcessSubscriber): () => void
  /** Retained messages matching a filter. */
  retained(filter: string): Message[]
  /** Connected clients. */
  clients(): Client[]
  /** Sends a message to one connected client only, not routed to anyone else (QoS 0). */
  sendTo(clientId: string, message: Message): boolean
  /** A connected client's subscriptions. */
  subscriptionsOf(clientId: string): Subscription[]
  /** Removes subscriptions of a client (connected or persistent) as if it had unsubscribed. */
  unsubscribe(clientId: string, filters: readonly string[]): void
  /** Closes a client's connection (v5: DISCONNECT with the reason code first). False when not connected. */
  disconnect(clientId: string, reasonCode: number, reason?: string): boolean
  stats(): EngineStats
  /** Changes limits while running (a config reload); open connections keep their inbound rates. */
  setLimits(limits: Partial<EngineLimits>): void
}
