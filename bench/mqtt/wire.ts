// The few MQTT 3.1.1 packets the load generator needs, encoded and parsed by hand: no client
// library between the benchmark and the socket, so the clients cost as little CPU as possible.

/** Packet types (the high nibble of the first byte). */
export const CONNACK = 2
export const PUBLISH = 3
export const PUBACK = 4
export const SUBACK = 9
export const PINGRESP = 13

const utf8 = new TextEncoder()

function remainingLength(n: number): number[] {
  const out: number[] = []
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    out.push(byte)
  } while (n > 0)
  return out
}

function packet(first: number, body: number[]): Uint8Array {
  return Uint8Array.from([first, ...remainingLength(body.length), ...body])
}

const str = (s: string) => {
  const b = utf8.encode(s)
  return [b.length >> 8, b.length & 0xff, ...b]
}

/** Topic aliases an MQTT 5 client of the bench accepts from the broker [MQTT-3.1.2-26]. */
export const V5_TOPIC_ALIAS_MAXIMUM = 16

/**
 * CONNECT, clean session, no credentials [MQTT-3.1]; MQTT 5 [MQTT-3.1.2-2] with a Topic Alias
 * Maximum (0x22), so the broker may send it aliases too.
 */
export function connectPacket(clientId: string, keepaliveS: number, v5 = false): Uint8Array {
  const props = v5 ? [3, 0x22, V5_TOPIC_ALIAS_MAXIMUM >> 8, V5_TOPIC_ALIAS_MAXIMUM & 0xff] : []
  return packet(0x10, [
    ...str('MQTT'),
    v5 ? 5 : 4,
    0x02,
    keepaliveS >> 8,
    keepaliveS & 0xff,
    ...props,
    ...str(clientId),
  ])
}

/** SUBSCRIBE to one filter [MQTT-3.8]; MQTT 5 adds an empty property block. */
export function subscribePacket(packetId: number, filter: string, qos: number, v5 = false): Uint8Array {
  return packet(0x82, [packetId >> 8, packetId & 0xff, ...(v5 ? [0] : []), ...str(filter), qos])
}

/**
 * MQTT 5 properties of the bench's PUBLISHes: Topic Alias 1 (0x23) and one User Property (0x26),
 * so the broker parses, keeps and forwards properties on every message.
 */
function v5PublishProperties(): number[] {
  const body = [0x23, 0, 1, 0x26, ...str('source'), ...str('bench')]
  return [...remainingLength(body.length), ...body]
}

export const disconnectPacket = () => Uint8Array.from([0xe0, 0])

export const pingreqPacket = () => Uint8Array.from([0xc0, 0])

export function pubackPacket(packetId: number): Uint8Array {
  return Uint8Array.from([0x40, 2, packetId >> 8, packetId & 0xff])
}

/**
 * PUBLISH packets of one topic and payload size, written into a reusable buffer: the caller
 * fills each packet's payload (`payloadAt`) and packet id, then sends `count` of them as one write.
 */
export class PublishBatch {
  readonly size: number
  readonly buffer: Uint8Array
  readonly view: DataView
  private readonly idAt: number
  private readonly bodyAt: number

  /**
   * `v5`: MQTT 5 PUBLISHes with properties; `aliasOnly` sends an empty topic name and only the
   * alias, which a first PUBLISH with the name has set [MQTT-3.3.2-12].
   */
  constructor(
    topic: string,
    qos: number,
    payloadBytes: number,
    capacity: number,
    v5?: { aliasOnly: boolean },
  ) {
    const t = str(v5?.aliasOnly ? '' : topic)
    const props = v5 ? v5PublishProperties() : []
    const id = qos > 0 ? 2 : 0
    const remaining = t.length + id + props.length + payloadBytes
    const header = [0x30 | (qos << 1), ...remainingLength(remaining), ...t]
    this.size = header.length + id + props.length + payloadBytes
    this.idAt = header.length
    this.bodyAt = header.length + id + props.length
    this.buffer = new Uint8Array(this.size * capacity)
    this.view = new DataView(this.buffer.buffer)
    for (let i = 0; i < capacity; i++) {
      this.buffer.set(header, i * this.size)
      this.buffer.set(props, i * this.size + header.length + id)
      this.buffer.fill(0x61, i * this.size + this.bodyAt, (i + 1) * this.size)
    }
  }

  /** Offset of packet `i`'s payload. */
  payloadAt(i: number): number {
    return i * this.size + this.bodyAt
  }

  setPacketId(i: number, id: number): void {
    this.view.setUint16(i * this.size + this.idAt, id)
  }

  /** The first `count` packets (a view: fill them again only once `Conn.send` returned). */
  take(count: number): Uint8Array {
    return this.buffer.subarray(0, count * this.size)
  }
}

/** What a PUBLISH carries, as offsets into the chunk it arrived in (valid during the callback). */
export interface Incoming {
  type: number
  flags: number
  data: Uint8Array
  /** Start of the packet (its first byte). */
  start: number
  /** Start of the variable header. */
  at: number
  end: number
}

/** Splits a byte stream into packets; calls `onPacket` for each, without copying whole ones. */
export class Parser {
  private rest: Uint8Array | undefined

  constructor(private readonly onPacket: (p: Incoming) => void) {}

  push(chunk: Uint8Array): void {
    let data = chunk
    if (this.rest) {
      const joined = new Uint8Array(this.rest.length + chunk.length)
      joined.set(this.rest)
      joined.set(chunk, this.rest.length)
      data = joined
      this.rest = undefined
    }
    let i = 0
    const n = data.length
    const p: Incoming = { type: 0, flags: 0, data, start: 0, at: 0, end: 0 }
    while (i + 2 <= n) {
      let len = 0
      let mul = 1
      let j = i + 1
      let complete = false
      while (j < n) {
        const b = data[j++]!
        len += (b & 0x7f) * mul
        mul *= 128
        if ((b & 0x80) === 0) {
          complete = true
          break
        }
      }
      if (!complete || j + len > n) break
      const first = data[i]!
      p.type = first >> 4
      p.flags = first & 0x0f
      p.start = i
      p.at = j
      p.end = j + len
      this.onPacket(p)
      i = j + len
    }
    if (i < n) this.rest = data.slice(i)
  }
}

/** The topic length, packet id (0 at QoS 0) and payload offset of a PUBLISH. */
export function publishParts(p: Incoming, v5 = false): { packetId: number; payloadAt: number } {
  const topicLen = (p.data[p.at]! << 8) | p.data[p.at + 1]!
  let at = p.at + 2 + topicLen
  let packetId = 0
  if ((p.flags & 0x06) !== 0) {
    packetId = (p.data[at]! << 8) | p.data[at + 1]!
    at += 2
  }
  if (v5) at = skipProperties(p.data, at)
  return { packetId, payloadAt: at }
}

/** The offset after an MQTT 5 property block (its variable-byte length, then the properties). */
export function skipProperties(data: Uint8Array, at: number): number {
  let len = 0
  let mul = 1
  for (;;) {
    const b = data[at++]!
    len += (b & 0x7f) * mul
    mul *= 128
    if ((b & 0x80) === 0) return at + len
  }
}
