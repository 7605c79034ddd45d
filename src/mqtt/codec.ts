// The wire format. PUBLISH, its acknowledgements and PINGREQ are read in place from the socket's
// buffer and written straight into a connection's output buffer: they are the hot path. The rare
// control packets (CONNECT, SUBSCRIBE, UNSUBSCRIBE, DISCONNECT, AUTH, v5 CONNACK) go through
// mqtt-packet, whose parser and generator are correct but allocate per packet.
import { isUtf8 } from 'node:buffer'
import mqttPacket, { type Packet } from 'mqtt-packet'
import type { MessageProperties, ProtocolLevel } from './types.ts'

export const CONNECT = 1
export const PUBLISH = 3
export const PUBACK = 4
export const PUBREC = 5
export const PUBREL = 6
export const PUBCOMP = 7
export const SUBSCRIBE = 8
export const UNSUBSCRIBE = 10
export const PINGREQ = 12
export const DISCONNECT = 14
export const AUTH = 15

const EMPTY = Buffer.alloc(0)

/** Past this, the output buffer grows by blocks of this size rather than by doubling. */
const BLOCK = 1024 * 1024

/**
 * A connection's outgoing packets, written into `buf` (flushed once per read). Up to a megabyte it
 * grows by doubling; past that, full blocks are set aside and a new one started, so a client that
 * reads nothing costs what it holds (bounded by maxOutgoingBytes), not twice that in copies.
 */
export class OutBuffer {
  buf: Buffer = EMPTY
  /** Bytes written into `buf`. */
  len = 0
  /** Earlier bytes, in order, set aside when `buf` was full. */
  private blocks: Buffer[] | undefined
  private blockBytes = 0

  /** Every byte written and not yet taken. */
  size(): number {
    return this.blockBytes + this.len
  }

  ensure(extra: number): void {
    const need = this.len + extra
    if (need <= this.buf.length) return
    if (this.buf.length >= BLOCK && this.len > 0) {
      this.blocks ??= []
      this.blocks.push(this.buf.subarray(0, this.len))
      this.blockBytes += this.len
      this.buf = Buffer.allocUnsafe(Math.max(BLOCK, extra))
      this.len = 0
      return
    }
    let size = Math.max(256, this.buf.length * 2)
    while (size < need) size *= 2
    const next = Buffer.allocUnsafe(size)
    if (this.len > 0) this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }

  byte(b: number): void {
    this.buf[this.len++] = b
  }

  u16(n: number): void {
    this.buf[this.len++] = n >>> 8
    this.buf[this.len++] = n & 0xff
  }

  u32(n: number): void {
    this.buf.writeUInt32BE(n >>> 0, this.len)
    this.len += 4
  }

  varint(n: number): void {
    do {
      let b = n % 128
      n = Math.floor(n / 128)
      if (n > 0) b |= 0x80
      this.buf[this.len++] = b
    } while (n > 0)
  }

  /** A UTF-8 string whose byte length the caller computed. */
  str(s: string, bytes: number): void {
    this.u16(bytes)
    if (bytes > 0) this.len += this.buf.write(s, this.len, bytes, 'utf8')
  }

  bin(b: Uint8Array): void {
    this.u16(b.length)
    this.bytes(b)
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.len)
    this.len += b.length
  }

  /**
   * Hands the bytes, in order, to `wire.write` (which returns how many it took) until it takes less
   * than it was given. Returns the bytes taken, or -1 when it refused at once (a closed socket).
   */
  drainTo(wire: {
    write(data: Uint8Array): number
    writeHead?(data: Uint8Array, length: number): number
  }): number {
    let taken = 0
    const blocks = this.blocks
    while (blocks && blocks.length > 0) {
      const b = blocks[0]!
      const n = wire.write(b)
      if (n < 0) return taken > 0 ? taken : -1
      taken += n
      this.blockBytes -= n
      if (n < b.length) {
        blocks[0] = b.subarray(n)
        return taken
      }
      blocks.shift()
    }
    if (blocks) this.blocks = undefined
    if (this.len === 0) return taken
    // Once per flush of every connection: no view object where the transport takes a length.
    const n = wire.writeHead ? wire.writeHead(this.buf, this.len) : wire.write(this.buf.subarray(0, this.len))
    if (n < 0) return taken > 0 ? taken : -1
    this.consume(n)
    return taken + n
  }

  /** Takes `n` bytes off the front of `buf` (what the transport took), keeping the rest. */
  private consume(n: number): void {
    if (n >= this.len) {
      this.len = 0
      // A burst grew the buffer: give the memory back rather than hold it per idle connection.
      if (this.buf.length > 16384) this.buf = EMPTY
      return
    }
    this.buf.copyWithin(0, n, this.len)
    this.len -= n
  }

  /** Drops everything written and not yet taken. */
  clear(): void {
    this.len = 0
    this.blocks = undefined
    this.blockBytes = 0
  }

  reset(): void {
    this.clear()
    this.buf = EMPTY
  }
}

function varintSize(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4
}

/** A frame's fixed header: where the body starts and how long it is; `need` > 0 when incomplete. */
export interface FrameHeader {
  /** Bytes of fixed header (1 + remaining-length bytes); 0 = not enough bytes yet; -1 = malformed. */
  headerLen: number
  remaining: number
}

/** Reads the remaining length at `pos` (after the first byte) [MQTT-1.5.5]. */
export function readFrameHeader(buf: Uint8Array, pos: number, end: number, out: FrameHeader): void {
  let mult = 1
  let value = 0
  for (let i = 1; i <= 4; i++) {
    if (pos + i >= end) {
      out.headerLen = 0
      return
    }
    const b = buf[pos + i]!
    value += (b & 0x7f) * mult
    if ((b & 0x80) === 0) {
      out.headerLen = i + 1
      out.remaining = value
      return
    }
    mult *= 128
  }
  // [MQTT-1.5.5-1] at most four bytes
  out.headerLen = -1
}

/** True for well-formed UTF-8 with no U+0000 [MQTT-1.5.4-1], [MQTT-1.5.4-2]. */
export function validUtf8(buf: Uint8Array, start: number, end: number): boolean {
  let ascii = true
  for (let i = start; i < end; i++) {
    const b = buf[i]!
    if (b === 0) return false
    if (b >= 0x80) {
      ascii = false
      break
    }
  }
  return ascii || isUtf8(buf.subarray(start, end))
}

/** A string that came through a decoder that replaced ill-formed bytes (mqtt-packet's). */
export function looksMalformed(s: string): boolean {
  return s.includes('\uFFFD') || s.includes('\u0000')
}

// ── PUBLISH ─────────────────────────────────────────────────────────────────────────────────────

/** Byte size of a message's properties as written by `writeMessageProperties`. */
function messagePropertiesSize(p: MessageProperties): number {
  let n = 0
  if (p.payloadFormatIndicator !== undefined) n += 2
  if (p.contentType !== undefined) n += 3 + Buffer.byteLength(p.contentType)
  if (p.responseTopic !== undefined) n += 3 + Buffer.byteLength(p.responseTopic)
  if (p.correlationData !== undefined) n += 3 + p.correlationData.length
  if (p.userProperties) {
    for (const [k, v] of p.userProperties) n += 5 + Buffer.byteLength(k) + Buffer.byteLength(v)
  }
  return n
}

/** Writes the forwarded properties, user properties in the order they arrived [MQTT-3.3.2-18]. */
function writeMessageProperties(out: OutBuffer, p: MessageProperties): void {
  if (p.payloadFormatIndicator !== undefined) {
    out.byte(0x01)
    out.byte(p.payloadFormatIndicator)
  }
  if (p.contentType !== undefined) {
    out.byte(0x03)
    out.str(p.contentType, Buffer.byteLength(p.contentType))
  }
  if (p.responseTopic !== undefined) {
    out.byte(0x08)
    out.str(p.responseTopic, Buffer.byteLength(p.responseTopic))
  }
  if (p.correlationData !== undefined) {
    out.byte(0x09)
    out.bin(p.correlationData)
  }
  if (p.userProperties) {
    for (const [k, v] of p.userProperties) {
      out.byte(0x26)
      out.str(k, Buffer.byteLength(k))
      out.str(v, Buffer.byteLength(v))
    }
  }
}

/** The outgoing PUBLISH a delivery writes; one reused object per engine, never kept. */
export interface OutgoingPublish {
  topic: string
  /** Send an empty topic name: the alias already maps to it on the client. */
  aliasOnly: boolean
  topicAlias: number
  payload: Buffer
  qos: number
  retain: boolean
  dup: boolean
  packetId: number
  properties: MessageProperties | undefined
  /** The forwarded properties as they came on the wire; written instead of `properties`. */
  rawProperties: Buffer | undefined
  /** Seconds left, -1 when the message does not expire. */
  messageExpiry: number
  subscriptionIds: readonly number[] | undefined
}

/** The full size of the PUBLISH packet, to check it against the client's maximum packet size. */
export function publishSize(p: OutgoingPublish, level: ProtocolLevel): PublishSizes {
  const topicBytes = p.aliasOnly ? 0 : Buffer.byteLength(p.topic)
  let body = 2 + topicBytes + (p.qos > 0 ? 2 : 0) + p.payload.length
  let props = 0
  if (level === 5) {
    if (p.rawProperties) props += p.rawProperties.length
    else if (p.properties) props += messagePropertiesSize(p.properties)
    if (p.messageExpiry >= 0) props += 5
    if (p.topicAlias > 0) props += 3
    if (p.subscriptionIds) for (const id of p.subscriptionIds) props += 1 + varintSize(id)
    body += varintSize(props) + props
  }
  sizes.size = 1 + varintSize(body) + body
  sizes.body = body
  sizes.props = props
  sizes.topic = topicBytes
  return sizes
}

/** What `publishSize` measured; one reused object, read before the next delivery. */
export interface PublishSizes {
  size: number
  body: number
  props: number
  /** The topic name's UTF-8 bytes (0 when only its alias is sent). */
  topic: number
}
const sizes: PublishSizes = { size: 0, body: 0, props: 0, topic: 0 }

/** Writes a PUBLISH whose sizes `publishSize` just computed. */
export function writePublish(
  out: OutBuffer,
  p: OutgoingPublish,
  level: ProtocolLevel,
  size: PublishSizes,
): void {
  const body = size.body
  out.ensure(1 + varintSize(body) + body)
  out.byte(0x30 | (p.dup ? 8 : 0) | (p.qos << 1) | (p.retain ? 1 : 0))
  out.varint(body)
  if (p.aliasOnly) out.u16(0)
  else out.str(p.topic, size.topic)
  if (p.qos > 0) out.u16(p.packetId)
  if (level === 5) {
    out.varint(size.props)
    if (p.messageExpiry >= 0) {
      out.byte(0x02)
      out.u32(p.messageExpiry)
    }
    if (p.topicAlias > 0) {
      out.byte(0x23)
      out.u16(p.topicAlias)
    }
    if (p.subscriptionIds) {
      for (const id of p.subscriptionIds) {
        out.byte(0x0b)
        out.varint(id)
      }
    }
    // [MQTT-3.3.2-18] user properties in the order they came
    if (p.rawProperties) out.bytes(p.rawProperties)
    else if (p.properties) writeMessageProperties(out, p.properties)
  }
  out.bytes(p.payload)
}

/** PUBACK, PUBREC, PUBREL or PUBCOMP; v5 adds a reason code unless it is 0 [MQTT-3.4.2.1]. */
export function writeAck(
  out: OutBuffer,
  type: number,
  packetId: number,
  level: ProtocolLevel,
  reason = 0,
): void {
  out.ensure(5)
  out.byte((type << 4) | (type === PUBREL ? 2 : 0))
  if (level === 5 && reason !== 0) {
    out.byte(3)
    out.u16(packetId)
    out.byte(reason)
  } else {
    out.byte(2)
    out.u16(packetId)
  }
}

export function writePingresp(out: OutBuffer): void {
  out.ensure(2)
  out.byte(0xd0)
  out.byte(0)
}

/** Any control packet through mqtt-packet's generator (CONNACK, SUBACK, UNSUBACK, DISCONNECT, AUTH). */
export function writePacket(out: OutBuffer, packet: Packet, level: ProtocolLevel): void {
  const bytes = mqttPacket.generate(packet, { protocolVersion: level })
  out.ensure(bytes.length)
  out.bytes(bytes)
}

/**
 * Parses complete control packets with one mqtt-packet parser per engine (a parser per packet
 * would leave kilobytes of garbage per CONNECT in a connection storm). Throws on a malformed one.
 */
export class ControlParser {
  private parser = this.make()
  private packet: Packet | undefined
  private error: Error | undefined

  private make(): ReturnType<typeof mqttPacket.parser> {
    const parser = mqttPacket.parser()
    parser.on('packet', (p: Packet) => {
      this.packet ??= p
    })
    parser.on('error', (e: Error) => {
      this.error ??= e
    })
    return parser
  }

  parse(frame: Buffer, level: ProtocolLevel): Packet {
    this.packet = undefined
    this.error = undefined
    ;(this.parser as unknown as { settings: object }).settings = { protocolVersion: level }
    this.parser.parse(frame)
    const { packet, error } = this
    this.packet = undefined
    if (error || !packet) {
      // A parser that failed midway keeps state: start over with a new one.
      this.parser = this.make()
      throw error ?? new Error('incomplete packet')
    }
    return packet
  }
}
