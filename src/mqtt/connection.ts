// One network connection: reads frames from whatever transport carries it, hands each packet to
// its handler in order, and holds the output buffer that is flushed once per read.
import {
  AUTH,
  CONNECT,
  DISCONNECT,
  type FrameHeader,
  OutBuffer,
  PINGREQ,
  PUBACK,
  PUBCOMP,
  PUBLISH,
  PUBREC,
  PUBREL,
  readFrameHeader,
  SUBSCRIBE,
  UNSUBSCRIBE,
  writePacket,
} from './codec.ts'
import type { EngineCore } from './core.ts'
import { handlePuback, handlePubcomp, handlePubrec, handlePubrel } from './handlers/acks.ts'
import { handleAuth } from './handlers/auth.ts'
import { handleConnect } from './handlers/connect.ts'
import { handleDisconnect } from './handlers/disconnect.ts'
import { handlePingreq } from './handlers/pingreq.ts'
import { handlePublish } from './handlers/publish.ts'
import { handleSubscribe } from './handlers/subscribe.ts'
import { handleUnsubscribe } from './handlers/unsubscribe.ts'
import { isPromise } from './promise.ts'
import { TokenBucket } from './rate.ts'
import type { Session } from './session.ts'
import { type Client, type DisconnectCause, MqttError, type ProtocolLevel, type Transport } from './types.ts'

/** What a transport gives the engine to write to and close one connection. */
export interface Wire {
  /** Takes as many bytes as it can now; returns how many (the rest waits for `drain`). */
  write(data: Uint8Array): number
  /** `write` of the first `length` bytes of `data`, where the transport needs no view of them. */
  writeHead?(data: Uint8Array, length: number): number
  /** Bytes accepted but not yet sent (WebSocket backpressure); 0 when the transport keeps none. */
  buffered(): number
  end(): void
  /** Stops reading from the peer (it meets TCP backpressure) until `resume`. */
  pause?(): void
  resume?(): void
}

const NEW = 0
const CONNECTING = 1
const CONNECTED = 2
const CLOSED = 3

const header: FrameHeader = { headerLen: 0, remaining: 0 }

/** The size OutBuffer allocates first. */
const FIRST_OUT_BUFFER = 256

/** A client over its outgoing bound that took nothing for this long does not read. */
const STALLED_MS = 500

/** Publishers that waited for a subscriber that stopped reading resume in this many steps … */
const STAGGER_STEPS = 20
/** … this far apart (at most a second in all, however many they are). */
const STAGGER_MS = 50

export class Connection implements Client {
  id = ''
  protocolLevel: ProtocolLevel = 4
  username: string | undefined
  keepAlive = 0
  cleanStart = true
  owner: string | undefined
  connected = false
  data: unknown

  state = NEW
  session: Session | null = null
  readonly out = new OutBuffer()
  /** The start of a packet split across reads, in a buffer of the packet's size once it is known. */
  private partial: Buffer | undefined
  private partialLen = 0
  /** Reads not handled yet because reading is held back, in order; `heldPos` is where the first resumes. */
  private held: Buffer[] | undefined
  private heldPos = 0
  private heldBytes = 0
  /** The last topic name read from this client and its bytes: a publisher mostly repeats one. */
  lastTopicBytes: Buffer | undefined
  lastTopic = ''
  private paused = false
  /** The store batch this connection's output waits for. */
  waitBatch = 0
  dirty = false
  private blocked = false
  /** Epoch ms the network last took bytes of this connection. */
  private lastProgress = 0
  lastSeen: number
  readonly openedAt: number
  /** Counted among the address's connections not yet authenticated. */
  pending = true
  /** The client's Receive Maximum: QoS 1/2 PUBLISHes in flight to it [MQTT-3.3.4-7]. */
  sendWindow = 65535
  /** The client's Maximum Packet Size [MQTT-3.1.2-24]. */
  maxPacketOut = 0xffffffff
  /** The client's Topic Alias Maximum: aliases the server may use towards it [MQTT-3.1.2-26]. */
  aliasMaxOut = 0
  aliasesOut: Map<string, number> | undefined
  aliasesIn: Map<number, string> | undefined
  /** QoS 1 acknowledgements written but held for the store. */
  acksHeld = 0
  /** Promises the output waits for (see EngineCore.hold). */
  holds = 0
  requestProblemInformation = true
  /** Set by DISCONNECT 0x00 from the client: the will is discarded [MQTT-3.14.4-3]. */
  discardWill = false
  /** Who is ending the connection, when `close` is called for a reason its code does not tell. */
  cause: DisconnectCause | undefined
  private detached = false
  /** Inbound rate buckets, made at the first PUBLISH (idle connections carry none). */
  private inMessages: TokenBucket | undefined
  private inBytes: TokenBucket | undefined
  /** Set while reading is paused because the client is over its inbound rate. */
  private throttle: ReturnType<typeof setTimeout> | undefined
  /** Set while this publisher waits for a subscriber that is behind. */
  private backoff = false
  /** Publishers waiting for this connection to catch up. */
  waiters: Connection[] | undefined

  constructor(
    readonly core: EngineCore,
    readonly wire: Wire,
    readonly transport: Transport,
    readonly remoteAddress: string,
    readonly certificateCommonName: string | undefined,
  ) {
    this.openedAt = core.now()
    this.lastSeen = this.openedAt
  }

  /**
   * Whether a QoS 0 delivery to this client is dropped for its outgoing bound: it is over
   * `maxOutgoingBytes` and has taken nothing for a while (it does not read), or it is far over it.
   * A client that reads, only slower than a burst arrives, gets the burst.
   */
  overOutgoingLimit(): boolean {
    const pending = this.pendingBytes()
    const cap = this.core.limits.maxOutgoingBytes
    if (pending <= cap) return false
    return pending > 4 * cap || this.core.now() - this.lastProgress > STALLED_MS
  }

  /** Bytes written to this connection and not yet taken by the network. */
  pendingBytes(): number {
    return this.out.size() + this.wire.buffered()
  }

  // ── input ──────────────────────────────────────────────────────────────────────────────────────

  /**
   * Bytes from the transport. Handles every complete packet in place (a transport hands each read
   * in a buffer of its own that nothing writes to again, so what a packet's handler keeps may be a
   * view of it), then flushes all output once.
   */
  onData(chunk: Uint8Array): void {
    this.core.counters.bytesReceived += chunk.length
    if (this.state === CLOSED) return
    this.lastSeen = this.core.now()
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)
    if (this.held || !this.reading) {
      this.hold(buf, 0)
      if (this.reading) this.readOn()
    } else this.read(buf, 0)
    // A client that sends without reading its acknowledgements cannot grow them without bound.
    if (this.blocked && this.out.size() > 2 * this.core.limits.maxOutgoingBytes) {
      this.close(0x97, 'quota exceeded: the client does not read')
    }
    this.core.flushAll()
  }

  /**
   * Keeps a read (from `from` on) for when reading goes on: while a CONNECT or an async hook is
   * pending, later packets wait, in order; a throttled or backed-off socket is paused, but what was
   * read before the pause took effect is kept. A client that keeps sending meanwhile is bounded.
   */
  private hold(buf: Buffer, from: number): void {
    if (from >= buf.length) return
    const bound =
      this.core.limits.maxPacketSize * 2 + (this.throttle || this.backoff ? 4 * 1024 * 1024 : 65536)
    this.heldBytes += buf.length - from
    if (this.heldBytes > bound) {
      this.close(0x97, 'too much data before the previous packet was handled')
      return
    }
    if (this.held) this.held.push(buf)
    else {
      this.held = [buf]
      this.heldPos = from
    }
  }

  /** Completes a packet split across reads, then handles the rest of `buf` in place. */
  private read(buf: Buffer, from: number): void {
    let pos = from
    if (this.partial) {
      pos = this.completePartial(buf, pos)
      if (pos < 0) return
    }
    this.parse(buf, pos)
  }

  /**
   * Appends to the packet split across reads; handles it once whole. Returns where `buf` goes on,
   * or -1 when it was all taken (or the connection closed).
   */
  private completePartial(buf: Buffer, from: number): number {
    let part = this.partial!
    let pos = from
    const end = buf.length
    // The fixed header first (at most 5 bytes), to learn the packet's size [MQTT-2.1.1].
    while (true) {
      readFrameHeader(part, 0, this.partialLen, header)
      if (header.headerLen !== 0) break
      if (pos >= end) return -1
      part[this.partialLen++] = buf[pos++]!
    }
    const total = this.frameSize()
    if (total < 0) return -1
    if (part.length < total) {
      const grown = Buffer.allocUnsafe(total)
      part.copy(grown, 0, 0, this.partialLen)
      this.partial = part = grown
    }
    const take = Math.min(total - this.partialLen, end - pos)
    buf.copy(part, this.partialLen, pos, pos + take)
    this.partialLen += take
    pos += take
    if (this.partialLen < total) return -1
    // What the packet's handler keeps may be a view of this buffer: it is never written again.
    this.partial = undefined
    this.partialLen = 0
    this.parse(part, 0, total)
    if (this.state === CLOSED) return -1
    if (!this.reading) {
      this.hold(buf, pos)
      return -1
    }
    return pos
  }

  /** Handles the complete packets of `buf[from, end)`; keeps a trailing partial one. */
  private parse(buf: Buffer, from: number, end = buf.length): void {
    let pos = from
    while (pos < end && this.reading && this.state !== CLOSED) {
      readFrameHeader(buf, pos, end, header)
      if (header.headerLen === 0) break
      const total = this.frameSize()
      if (total < 0) return
      if (pos + total > end) {
        this.startPartial(buf, pos, end, total)
        return
      }
      const first = buf[pos]!
      const frame = pos
      pos += total
      this.dispatch(first >> 4, first & 0x0f, buf, frame, frame + header.headerLen, pos)
      if (first >> 4 === PUBLISH) {
        this.meter(total)
        const slow = this.core.pressure
        if (slow) {
          this.core.pressure = undefined
          if (slow !== this) this.waitFor_(slow)
        }
      }
    }
    if (pos >= end || this.state === CLOSED) return
    if (this.reading) this.startPartial(buf, pos, end, 0)
    else this.hold(buf, pos)
  }

  /** The size of the frame whose complete fixed header `header` holds; -1 after closing for a bad one. */
  private frameSize(): number {
    if (header.headerLen < 0) {
      this.close(0x81, 'malformed remaining length')
      return -1
    }
    const total = header.headerLen + header.remaining
    if (total > this.core.limits.maxPacketSize) {
      // §3.2.2.3.6 larger than the server's Maximum Packet Size
      this.close(0x95, 'packet too large')
      return -1
    }
    return total
  }

  /** Copies the start of a packet the read cut off; `total` is its size when its header was whole. */
  private startPartial(buf: Buffer, from: number, end: number, total: number): void {
    const have = end - from
    const part = Buffer.allocUnsafe(Math.max(total, have, 5))
    buf.copy(part, 0, from, end)
    this.partial = part
    this.partialLen = have
  }

  private dispatch(
    type: number,
    flags: number,
    buf: Buffer,
    frame: number,
    start: number,
    end: number,
  ): void {
    let r: void | Promise<void> | undefined
    try {
      if (this.state === NEW) {
        // [MQTT-3.1.0-1] the first packet must be CONNECT
        if (type !== CONNECT) {
          this.close(0x82, 'first packet is not CONNECT')
          return
        }
        this.state = CONNECTING
        r = handleConnect(this, buf.subarray(frame, end))
      } else {
        switch (type) {
          case PUBLISH:
            r = handlePublish(this, flags, buf, start, end)
            break
          case PUBACK:
            handlePuback(this, flags, buf, start, end)
            break
          case PUBREC:
            handlePubrec(this, flags, buf, start, end)
            break
          case PUBREL:
            handlePubrel(this, flags, buf, start, end)
            break
          case PUBCOMP:
            handlePubcomp(this, flags, buf, start, end)
            break
          case SUBSCRIBE:
            r = handleSubscribe(this, buf.subarray(frame, end))
            break
          case UNSUBSCRIBE:
            handleUnsubscribe(this, buf.subarray(frame, end))
            break
          case PINGREQ:
            handlePingreq(this, flags, start, end)
            break
          case DISCONNECT:
            handleDisconnect(this, buf.subarray(frame, end))
            break
          case AUTH:
            handleAuth(this)
            break
          case CONNECT:
            // [MQTT-3.1.0-2] a second CONNECT is a protocol error
            this.close(0x82, 'second CONNECT')
            break
          default:
            this.close(0x81, 'unknown packet type')
        }
      }
    } catch (err) {
      this.core.hookFailed(this, 'handler', err)
      return
    }
    if (r && isPromise(r)) this.waitFor(r)
  }

  /** Stops reading packets until `p` settles, so later packets keep their order. */
  private waitFor(p: Promise<void>): void {
    this.paused = true
    p.then(
      () => this.resume(),
      (err: unknown) => {
        this.core.hookFailed(this, 'handler', err)
        this.resume()
      },
    )
  }

  private resume(): void {
    this.paused = false
    this.readOn()
  }

  /** Not reading: an async hook is pending, the inbound rate is spent, or a subscriber is behind. */
  private get reading(): boolean {
    return !this.paused && this.throttle === undefined && !this.backoff
  }

  /** Handles what was kept while not reading, once nothing holds reading back. */
  private readOn(): void {
    while (this.state !== CLOSED && this.held && this.reading) {
      const list = this.held
      const from = this.heldPos
      this.held = undefined
      this.heldBytes = 0
      this.heldPos = 0
      for (let i = 0; i < list.length; i++) {
        const buf = list[i]!
        if (this.held || !this.reading) this.hold(buf, i === 0 ? from : 0)
        else this.read(buf, i === 0 ? from : 0)
        if (this.state === CLOSED) break
      }
    }
    this.core.flushAll()
  }

  /**
   * A subscriber this publisher delivers to is behind (over its outgoing bound, still reading):
   * stop reading the publisher until it catches up, so a burst meets TCP backpressure at the
   * publisher instead of being dropped or buffered without bound [MQTT-4.9.0].
   */
  private waitFor_(slow: Connection): void {
    if (this.backoff) return
    this.backoff = true
    this.wire.pause?.()
    slow.waiters ??= []
    slow.waiters.push(this)
  }

  /** The subscriber this publisher waited for caught up, stalled or left. */
  release(): void {
    if (!this.backoff) return
    this.backoff = false
    if (this.state === CLOSED) return
    if (this.throttle === undefined) this.wire.resume?.()
    this.readOn()
  }

  /** Lets the publishers waiting for this connection read again; `staggered`: a few at a time. */
  releaseWaiters(staggered = false): void {
    const w = this.waiters
    if (!w) return
    this.waiters = undefined
    if (!staggered || w.length === 1) {
      for (const c of w) c.release()
      return
    }
    releaseNext(w, 0, Math.ceil(w.length / STAGGER_STEPS))
  }

  /**
   * Counts a PUBLISH against the client's inbound rates; over them, reading pauses (the socket
   * too, so the sender meets TCP backpressure) until the debt is paid.
   */
  private meter(bytes: number): void {
    const limits = this.core.limits
    const now = this.core.now()
    this.inMessages ??= new TokenBucket(limits.inboundMessagesPerSecond, limits.inboundMessagesPerSecond, now)
    this.inBytes ??= new TokenBucket(limits.inboundBytesPerSecond, limits.inboundBytesPerSecond, now)
    const wait = Math.max(this.inMessages.take(1, now), this.inBytes.take(bytes, now))
    if (wait <= 0 || this.throttle || this.state === CLOSED) return
    this.core.counters.throttled++
    this.wire.pause?.()
    this.throttle = setTimeout(unthrottle, wait, this)
  }

  /** The throttle's timer ran out: read again once the whole debt is paid. */
  unthrottled(): void {
    const now = this.core.now()
    const wait = Math.max(this.inMessages?.take(0, now) ?? 0, this.inBytes?.take(0, now) ?? 0)
    if (wait > 0 && this.state !== CLOSED) {
      this.throttle = setTimeout(unthrottle, wait, this)
      return
    }
    this.throttle = undefined
    if (this.state === CLOSED) return
    if (!this.backoff) this.wire.resume?.()
    this.readOn()
  }

  /** CONNACK 0 was sent: the connection is live. */
  markConnected(): void {
    this.state = CONNECTED
    this.connected = true
  }

  // ── output ─────────────────────────────────────────────────────────────────────────────────────

  /** Writes the output buffer unless it waits for the store or for the transport to drain. */
  flush(): void {
    if (
      this.out.size() === 0 ||
      this.blocked ||
      this.holds > 0 ||
      this.waitBatch > this.core.commits.committed
    )
      return
    const n = this.out.drainTo(this.wire)
    if (n <= 0) {
      this.blocked = true
      return
    }
    this.core.counters.bytesSent += n
    this.lastProgress = this.core.now()
    if (this.out.size() > 0) this.blocked = true
    // A buffer of the first size is given back once written: most connections write a CONNACK
    // and a SUBACK, then idle (≤ 4 KiB per idle connection), and a short-lived buffer is cheaper
    // than one held for a second. A burst grows the buffer, which is then kept while in use.
    else if (this.out.buf.length <= FIRST_OUT_BUFFER) this.out.reset()
  }

  /** The transport can take more. */
  onDrain(): void {
    this.blocked = false
    this.flush()
    if (this.waiters && this.pendingBytes() <= this.core.limits.maxOutgoingBytes) this.releaseWaiters()
    if (!this.blocked && this.session) this.core.pump(this.session)
    this.core.flushAll()
  }

  // ── lifetime ───────────────────────────────────────────────────────────────────────────────────

  checkTimers(now: number): void {
    // An idle connection gives its output buffer back (≤ 4 KiB per idle connection).
    if (this.out.size() === 0 && now - this.lastSeen > 1000) this.out.reset()
    if (this.state === NEW || this.state === CONNECTING) {
      // A socket that never completes CONNECT must not hold a slot.
      if (now - this.openedAt >= this.core.limits.connectTimeoutMs) {
        this.cause = 'limit'
        this.close(0x8d, 'no CONNECT in time')
      }
      return
    }
    // [MQTT-3.1.2-24] (3.1.1: [MQTT-3.1.2-24]) nothing for 1.5 × keep alive: close
    if (this.state === CONNECTED && this.keepAlive > 0 && now - this.lastSeen > this.keepAlive * 1500) {
      this.cause = 'keepalive'
      this.close(0x8d, 'keep alive timeout')
    }
  }

  /**
   * Closes the connection. A v5 client that got CONNACK hears DISCONNECT with the reason first
   * (§3.14); `discard` drops output held for the store.
   */
  close(reasonCode: number, reason: string, discard = false): undefined {
    if (this.state === CLOSED) return
    const wasConnected = this.state === CONNECTED
    this.state = CLOSED
    // Output held for the store must not go out before it is durable.
    if (discard || this.waitBatch > this.core.commits.committed) this.out.clear()
    if (wasConnected && this.protocolLevel === 5 && reasonCode >= 0x80) {
      const properties = this.requestProblemInformation && reason ? { reasonString: reason } : undefined
      writePacket(this.out, { cmd: 'disconnect', reasonCode, properties }, 5)
    }
    this.waitBatch = 0
    this.blocked = false
    this.flush()
    try {
      this.wire.end()
    } catch {
      // already closed by the peer
    }
    this.detach(reasonCode, reason)
  }

  /** The transport closed the socket (the peer went away, or after `close`). */
  onClose(): void {
    if (this.state !== CLOSED) {
      this.state = CLOSED
      this.cause = 'lost'
      this.detach(0x80, 'connection lost')
    }
    this.core.flushAll()
  }

  private detach(reasonCode: number, reason: string): void {
    if (this.detached) return
    this.detached = true
    clearTimeout(this.throttle)
    this.releaseWaiters()
    const core = this.core
    if ((this.cause ?? causeOf(reasonCode)) === 'limit') core.counters.disconnectedClients++
    core.connections.delete(this)
    this.releasePending()
    this.out.reset()
    this.held = undefined
    this.partial = undefined
    const session = this.session
    if (!this.connected || !session) return
    this.connected = false
    if (core.live.get(this.id) === this) core.live.delete(this.id)
    session.conn = null
    const now = core.now()
    session.disconnectedAt = now
    let willPublished = false
    if (this.discardWill) {
      if (session.will && session.stored) core.op({ op: 'will', clientId: session.clientId, will: undefined })
      session.will = undefined
    } else if (session.will) {
      willPublished = true
      const delay = session.will.delayInterval
      // [MQTT-3.1.3-9] after the Will Delay Interval or when the session ends, whichever first
      if (delay === 0 || !session.persistent || session.expiryInterval <= delay) {
        core.publishWill(session, this)
      } else {
        session.willAt = now + delay * 1000
        core.timed.add(session)
      }
    }
    if (!session.persistent) core.destroySession(session)
    else {
      core.op({
        op: 'session',
        clientId: session.clientId,
        owner: session.owner,
        protocolLevel: session.protocolLevel,
        expiryInterval: session.expiryInterval,
        disconnectedAt: now,
      })
      if (session.expiryInterval !== 0xffffffff) core.timed.add(session)
    }
    try {
      core.hooks.disconnected?.(this, {
        cause: this.cause ?? causeOf(reasonCode),
        reasonCode,
        reason,
        willPublished,
      })
    } catch (err) {
      core.log.error('hook disconnected threw', { err, clientId: this.id })
    }
  }

  releasePending(): void {
    if (!this.pending) return
    this.pending = false
    const map = this.core.pendingPerAddress
    const n = (map.get(this.remoteAddress) ?? 1) - 1
    if (n <= 0) map.delete(this.remoteAddress)
    else map.set(this.remoteAddress, n)
  }

  /** Throws the MqttError that closes this connection with `code`. */
  fail(code: number, message: string): never {
    throw new MqttError(code, message)
  }
}

/** Limits the server enforces: packet too large, quota, receive maximum, connection rate. */
const LIMIT_CODES = new Set([0x93, 0x95, 0x97, 0x9f])

function causeOf(reasonCode: number): DisconnectCause {
  if (reasonCode === 0x8e) return 'takeover'
  if (reasonCode === 0x8b || reasonCode === 0x98) return 'server'
  return LIMIT_CODES.has(reasonCode) ? 'limit' : 'protocol'
}

/**
 * Publishers held back by a subscriber that stopped reading resume a few at a time: each brings
 * the backlog its socket gathered meanwhile, and all of them at once land in one burst that the
 * hub's memory feels (the 20-publisher flood peaked 20–30 MB higher).
 */
function releaseNext(list: Connection[], from: number, per: number): void {
  const to = Math.min(list.length, from + per)
  for (let i = from; i < to; i++) list[i]!.release()
  if (to < list.length) setTimeout(releaseNext, STAGGER_MS, list, to, per)
}

/** Shared by every connection's throttle timer: no closure per connection. */
function unthrottle(conn: Connection): void {
  conn.unthrottled()
}
