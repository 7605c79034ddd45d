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

/** CONNECT, clean session, no credentials [MQTT-3.1]. */
export function connectPacket(clientId: string, keepaliveS: number): Uint8Array {
  return packet(0x10, [...str('MQTT'), 4, 0x02, keepaliveS >> 8, keepaliveS & 0xff, ...str(clientId)])
}

/** SUBSCRIBE to one filter [MQTT-3.8]. */
export function subscribePacket(packetId: number, filter: string, qos: number): Uint8Array {
  return packet(0x82, [packetId >> 8, packetId & 0xff, ...str(filter), qos])
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

  constructor(topic: string, qos: number, payloadBytes: number, capacity: number) {
    const t = str(topic)
    const remaining = t.length + (qos > 0 ? 2 : 0) + payloadBytes
    const header = [0x30 | (qos << 1), ...remainingLength(remaining), ...t]
    this.size = header.length + (qos > 0 ? 2 : 0) + payloadBytes
    this.idAt = header.length
    this.bodyAt = header.length + (qos > 0 ? 2 : 0)
    this.buffer = new Uint8Array(this.size * capacity)
    this.view = new DataView(this.buffer.buffer)
    for (let i = 0; i < capacity; i++) {
      this.buffer.set(header, i * this.size)
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
    const p: Incoming = { type: 0, flags: 0, data, at: 0, end: 0 }
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
      p.at = j
      p.end = j + len
      this.onPacket(p)
      i = j + len
    }
    if (i < n) this.rest = data.slice(i)
  }
}

/** The topic length, packet id (0 at QoS 0) and payload offset of a PUBLISH. */
export function publishParts(p: Incoming): { packetId: number; payloadAt: number } {
  const topicLen = (p.data[p.at]! << 8) | p.data[p.at + 1]!
  let at = p.at + 2 + topicLen
  let packetId = 0
  if ((p.flags & 0x06) !== 0) {
    packetId = (p.data[at]! << 8) | p.data[at + 1]!
    at += 2
  }
  return { packetId, payloadAt: at }
}
