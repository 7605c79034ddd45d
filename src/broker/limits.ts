import type { Duplex } from 'node:stream'
import type { Aedes, AedesPublishPacket, Client } from 'aedes'
import type { Logger } from '../log.ts'
import {
  addClientTap,
  headerBytes,
  type ParserInternals,
  refuseConnect,
  type TappedClient,
  type WirePacket,
} from './client-tap.ts'
import type { BrokerPlugin } from './hooks.ts'
import { TokenBucket } from './rate-limit.ts'

export interface LimitsOptions {
  log: Logger
  /** Largest packet (fixed header included) a client may send; larger ones disconnect it. */
  maxPacketSize: number
  /** Concurrent connections over all listeners; the next one gets CONNACK 3. */
  maxConnections: number
  /** CONNECTs per second from one address; beyond it CONNACK 3. */
  connectRatePerAddress: number
  /** Per client: beyond these the hub stops reading that client's socket for a while. */
  inboundMessagesPerSecond: number
  inboundBytesPerSecond: number
  /** Bytes waiting to be written to one client: above it QoS 0 is dropped, above twice it QoS 1/2 disconnects. */
  maxQueuedBytesPerClient: number
  now?: () => number
}

/** What the limits did so far (for $SYS and metrics). */
export interface LimitCounters {
  /** QoS 0 deliveries dropped because the receiver's queue was full. */
  droppedMessages: number
  /** Clients disconnected for a full queue at QoS 1/2 or an oversize packet. */
  disconnectedClients: number
  /** CONNECTs answered with CONNACK 3 (too many connections, or too fast from one address). */
  refusedConnections: number
  /** Times a client's socket was paused by its inbound token bucket. */
  throttled: number
}

/** The limits a config reload may change. */
export type LimitSettings = Pick<
  LimitsOptions,
  | 'maxPacketSize'
  | 'maxConnections'
  | 'connectRatePerAddress'
  | 'inboundMessagesPerSecond'
  | 'inboundBytesPerSecond'
  | 'maxQueuedBytesPerClient'
>

export interface Limits extends BrokerPlugin {
  /**
   * Replaces the limits (a config reload). Packet size, connection count, queue caps and connect
   * rate apply at once; a connection keeps the inbound rates it was accepted with.
   */
  setLimits(settings: LimitSettings): void
  counters(): LimitCounters
  /** Open connections, counted from accept (before CONNECT). */
  connections(): number
}

/** A socket that knows about bytes buffered below it (the WebSocket adapter). */
interface QueueAware {
  queuedBytes(): number
}

/** Connections above the limit get CONNACK 3; past this many more they are closed at once. */
const CONNECTION_GRACE = 64
/** Packets of one client parsed but not yet handled, beyond which its socket is not read. */
const MAX_INFLIGHT = 1000
/** Bytes Aedes gets per read of a socket (at least maxPacketSize). */
const MAX_READ = 64 * 1024
/** How often idle per-address connect buckets are forgotten. */
const SWEEP_MS = 60_000

const STATE = Symbol('limits')

/** A client the limits look after: its state rides on the client, with no closure per connection. */
type LimitedClient = TappedClient & { [STATE]?: ConnectionLimits }
type LimitedConn = Duplex & { client?: LimitedClient }

/**
 * One connection's share of the limits: its inbound token buckets, the pause they impose, and the
 * socket and parser methods it replaced. A hub holds thousands of idle connections, so this is one
 * object (plus one bound function) per connection; the replacements are shared by all of them.
 */
class ConnectionLimits {
  readonly messages: TokenBucket
  readonly bytes: TokenBucket
  /** Set while reading is paused for the token buckets. */
  timer: ReturnType<typeof setTimeout> | undefined = undefined
  /** Packets parsed and not yet handled. */
  inflight = 0
  parsed = 0
  /** Accepted beyond maxConnections: its CONNECT gets CONNACK 3. */
  overLimit = false
  // The originals the shared replacements call.
  readonly read: Duplex['read']
  readonly write: Duplex['write']
  readonly parse: ParserInternals['parse']
  readonly parseLength: ParserInternals['_parseLength']
  readonly nextBatch: (err?: Error) => void

  constructor(
    readonly core: LimitsCore,
    readonly client: LimitedClient,
    readonly conn: LimitedConn,
  ) {
    const t = core.now()
    this.messages = new TokenBucket(core.opts.inboundMessagesPerSecond, core.opts.inboundMessagesPerSecond, t)
    this.bytes = new TokenBucket(core.opts.inboundBytesPerSecond, core.opts.inboundBytesPerSecond, t)
    this.read = conn.read
    this.write = conn.write
    this.parse = client._parser.parse
    this.parseLength = client._parser._parseLength
    this.nextBatch = client._nextBatch
  }

  /** Aedes passes `client._nextBatch` as each packet's completion callback. */
  completed(err?: Error) {
    this.inflight = Math.max(0, this.inflight - 1)
    this.nextBatch(err)
  }

  debt(n: number, b: number): number {
    const t = this.core.now()
    return Math.max(this.messages.take(n, t), this.bytes.take(b, t))
  }

  /** A packet parsed: pause reading when its publish goes over the budget. */
  packet(packet: WirePacket) {
    this.inflight++
    this.parsed++
    if (packet.cmd !== 'publish') return
    const wait = this.debt(1, packet.length)
    if (wait <= 0 || this.timer) return
    this.core.counters.throttled++
    this.core.log.debug(() => `pausing ${this.client.id} for ${wait} ms`)
    this.timer = setTimeout(resumeWhenPaid, wait, this)
  }
}

/** Packets parsed after the pause began deepen the debt: read again only once all of it is paid. */
function resumeWhenPaid(s: ConnectionLimits) {
  const wait = s.debt(0, 0)
  s.timer = wait > 0 ? setTimeout(resumeWhenPaid, wait, s) : undefined
  if (!s.timer && !s.conn.destroyed) s.nextBatch()
}

/** What every connection's limits share. */
interface LimitsCore {
  opts: LimitsOptions
  log: Logger
  counters: LimitCounters
  now: () => number
}

/**
 * Point 7 of issue 3, "no client can take the hub down": packet size, inbound rate, outbound
 * queue, connection count and connect rate. Goes first in the plugin list: refusals are cheap.
 */
export function createLimits(options: LimitsOptions): Limits {
  // A copy: setLimits changes it, and every connection's limits read it through `core`.
  const opts: LimitsOptions = { ...options }
  const log = opts.log.child('limits')
  const now = opts.now ?? Date.now
  const counters: LimitCounters = {
    droppedMessages: 0,
    disconnectedClients: 0,
    refusedConnections: 0,
    throttled: 0,
  }
  const core: LimitsCore = { opts, log, counters, now }
  let open = 0
  const perAddress = new Map<string, TokenBucket>()
  let untap: (() => void) | undefined
  let sweep: ReturnType<typeof setInterval> | undefined

  const queued = (conn: Duplex) => conn.writableLength + ((conn as Partial<QueueAware>).queuedBytes?.() ?? 0)
  // Aedes reads all that is buffered (Bun buffers 512 KiB): thousands of small packets in flight
  // at once. A read of at least one whole packet's worth still always completes a packet.
  let most = Math.max(MAX_READ, opts.maxPacketSize)
  let hard = 2 * opts.maxQueuedBytesPerClient

  // The replacements below are shared by every connection; each finds its state through `this`.

  /** The packet size, checked as soon as the fixed header is read, so the body is never buffered. */
  function parseLength(this: ParserInternals & { client: LimitedClient }): boolean {
    const s = this.client[STATE]!
    const ok = s.parseLength.call(this)
    if (ok && this.packet.length + headerBytes(this.packet.length) > opts.maxPacketSize) {
      counters.disconnectedClients++
      log.debug('packet too large', { clientId: s.client.id, length: this.packet.length })
      this._emitError(new Error(`packet larger than maxPacketSize (${opts.maxPacketSize} bytes)`))
      return false
    }
    return ok
  }

  /**
   * Aedes reads with `conn.read()` whenever a batch of packets is done; answering null leaves the
   * bytes in the kernel, so the sender meets TCP backpressure. Reading pauses while the client is
   * over its token budget, or has too many packets still being handled: Aedes also reads on every
   * 'readable' event, so under a flood it parses faster than deliveries complete.
   */
  function read(this: LimitedConn, size?: number) {
    const s = this.client![STATE]!
    return s.timer || s.inflight > MAX_INFLIGHT
      ? null
      : s.read.call(this, size ?? Math.min(this.readableLength, most))
  }

  /** A read that ended inside a packet completes nothing, so nothing would ask for the rest. */
  function parse(this: ParserInternals & { client: LimitedClient }, buf: Buffer) {
    const s = this.client[STATE]!
    const before = s.parsed
    const left = s.parse.call(this, buf)
    if (s.parsed === before && s.conn.readableLength > 0) setImmediate(readRest, s)
    return left
  }

  /**
   * Aedes waits for 'drain' after every write the socket reports as over its high-water mark
   * (64 KiB), and the publisher's next batch waits for that delivery: one slow subscriber would
   * hold up every publisher of its topics. Report backpressure only past twice the cap; below it
   * authorizeForward drops or disconnects, so the buffer stays bounded without waiting.
   */
  function write(this: LimitedConn, ...args: unknown[]) {
    const ok = (this.client![STATE]!.write as (...a: unknown[]) => boolean).apply(this, args)
    return ok || queued(this) <= hard
  }

  function closed(this: LimitedConn) {
    open--
    const s = this.client?.[STATE]
    if (s) clearTimeout(s.timer)
  }

  function connectionAccepted(client: LimitedClient, conn: LimitedConn) {
    open++
    conn.on('close', closed)
    if (open > opts.maxConnections + CONNECTION_GRACE) {
      counters.refusedConnections++
      conn.destroy()
      return
    }
    const s = new ConnectionLimits(core, client, conn)
    s.overLimit = open > opts.maxConnections
    client[STATE] = s
    conn.write = write as Duplex['write']
    conn.read = read
    client._parser._parseLength = parseLength
    client._parser.parse = parse
    client._nextBatch = s.completed.bind(s)
  }

  return {
    name: 'limits',
    counters: () => ({ ...counters }),
    setLimits(settings) {
      Object.assign(opts, settings)
      most = Math.max(MAX_READ, opts.maxPacketSize)
      hard = 2 * opts.maxQueuedBytesPerClient
      // Buckets hold the old rate; forgetting them costs an address at most one fresh burst.
      perAddress.clear()
    },
    connections: () => open,

    attach(aedes: Aedes) {
      // Aedes 1.2 kills the process on a QoS 0 flood whose subscriber disconnects: mqemitter's
      // queue (used past `concurrency` messages in flight) is drained by recursion
      // (released → _do → parallel → released), which overflows the stack once the subscriber
      // is gone and every queued message completes synchronously. Without a limit nothing is
      // queued; each publisher is still held back because Aedes reads its next batch only once
      // the deliveries of this one are done.
      ;(aedes as unknown as { mq: { concurrency: number } }).mq.concurrency = 0
      untap = addClientTap(
        aedes,
        {
          connection: connectionAccepted,
          packet(client: LimitedClient, packet) {
            client[STATE]?.packet(packet)
          },
        },
        log,
      )
      sweep = setInterval(() => {
        const t = now()
        for (const [address, bucket] of perAddress) if (bucket.full(t)) perAddress.delete(address)
      }, SWEEP_MS)
      sweep.unref?.()
    },

    detach() {
      untap?.()
      untap = undefined
      clearInterval(sweep)
      perAddress.clear()
    },

    async preConnect(client) {
      const c = client as LimitedClient
      if (c[STATE]?.overLimit) {
        counters.refusedConnections++
        log.warn('connection refused: maxConnections reached', { max: opts.maxConnections })
        await refuseConnect(c, 3, 'too many connections')
      }
      const address = (c.conn as { remoteAddress?: string }).remoteAddress ?? 'unknown'
      let bucket = perAddress.get(address)
      if (!bucket) {
        bucket = new TokenBucket(opts.connectRatePerAddress, opts.connectRatePerAddress, now())
        perAddress.set(address, bucket)
      }
      if (bucket.take(1, now()) > 0) {
        counters.refusedConnections++
        log.debug('connection refused: connect rate', { address })
        await refuseConnect(c, 3, 'too many connections from this address')
      }
    },

    authorizeForward(client: Client, packet: AedesPublishPacket) {
      const conn = (client as TappedClient).conn
      const q = queued(conn)
      if (q <= opts.maxQueuedBytesPerClient) return packet
      if (packet.qos === 0) {
        counters.droppedMessages++
        return null
      }
      if (q <= 2 * opts.maxQueuedBytesPerClient) return packet
      // A QoS 1/2 message cannot be dropped: close the connection. A persistent session keeps it
      // queued (Aedes stored it before delivering) and gets it on reconnect.
      if (!conn.destroyed) {
        counters.disconnectedClients++
        log.warn('client too slow: outgoing queue full, disconnecting', { clientId: client.id })
        conn.destroy(new Error('outgoing queue over twice maxQueuedBytesPerClient'))
      }
      return packet
    },
  }
}

/** Asks Aedes for the rest of a packet a read ended inside of. */
function readRest(s: ConnectionLimits) {
  if (!s.conn.destroyed) s.nextBatch()
}
