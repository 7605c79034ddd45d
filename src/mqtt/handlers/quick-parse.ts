// The CONNECT and SUBSCRIBE nearly every client sends, read without mqtt-packet: a 3.1.1 CONNECT
// without a will, a 3.1/3.1.1 SUBSCRIBE. mqtt-packet's parser builds a packet object, a buffer list
// and a settings object per packet; in a connection storm that is most of the CPU and garbage of
// CONNECT. Anything else (MQTT 5, 3.1, a will, a reserved bit, a field that does not end where the
// packet does) answers undefined and goes through mqtt-packet, so both paths accept the same
// packets and hand the handlers the same fields.
import type { IConnectPacket, ISubscribePacket } from 'mqtt-packet'
import type { ProtocolLevel } from '../types.ts'

/** Where the variable header starts: after the type byte and the Remaining Length [MQTT-2.2.3]. */
function bodyStart(frame: Buffer): number {
  let i = 1
  while (i < 4 && (frame[i]! & 0x80) !== 0) i++
  return i + 1
}

/** Connect Flags that send a packet to mqtt-packet: reserved (bit 0), will flag, will QoS, will retain. */
const SLOW_CONNECT_FLAGS = 0x01 | 0x04 | 0x18 | 0x20

/** A 3.1.1 CONNECT without a will; undefined for any other. */
export function quickConnect(frame: Buffer): IConnectPacket | undefined {
  const end = frame.length
  let p = bodyStart(frame)
  // [MQTT-3.1.2-1] protocol name "MQTT", [MQTT-3.1.2-2] level 4
  if (
    end - p < 12 ||
    frame[p] !== 0 ||
    frame[p + 1] !== 4 ||
    frame[p + 2] !== 0x4d ||
    frame[p + 3] !== 0x51 ||
    frame[p + 4] !== 0x54 ||
    frame[p + 5] !== 0x54 ||
    frame[p + 6] !== 4
  ) {
    return undefined
  }
  const flags = frame[p + 7]!
  const hasUsername = (flags & 0x80) !== 0
  const hasPassword = (flags & 0x40) !== 0
  if ((flags & SLOW_CONNECT_FLAGS) !== 0 || (hasPassword && !hasUsername)) return undefined
  const keepalive = (frame[p + 8]! << 8) | frame[p + 9]!
  p += 10
  let len = (frame[p]! << 8) | frame[p + 1]!
  if (p + 2 + len > end) return undefined
  const clientId = frame.toString('utf8', p + 2, p + 2 + len)
  p += 2 + len
  let username: string | undefined
  let password: Buffer | undefined
  if (hasUsername) {
    if (end - p < 2) return undefined
    len = (frame[p]! << 8) | frame[p + 1]!
    if (p + 2 + len > end) return undefined
    username = frame.toString('utf8', p + 2, p + 2 + len)
    p += 2 + len
  }
  if (hasPassword) {
    if (end - p < 2) return undefined
    len = (frame[p]! << 8) | frame[p + 1]!
    if (p + 2 + len > end) return undefined
    // A copy: the frame is the transport's buffer, and verification may outlive this read.
    password = Buffer.from(frame.subarray(p + 2, p + 2 + len))
    p += 2 + len
  }
  if (p !== end) return undefined
  const packet: IConnectPacket = {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: (flags & 0x02) !== 0,
    keepalive,
    clientId,
  }
  if (username !== undefined) packet.username = username
  if (password !== undefined) packet.password = password
  return packet
}

/** A 3.1 or 3.1.1 SUBSCRIBE with at least one filter; undefined for any other. */
export function quickSubscribe(frame: Buffer, level: ProtocolLevel): ISubscribePacket | undefined {
  if (level === 5) return undefined
  const end = frame.length
  let p = bodyStart(frame)
  if (end - p < 2) return undefined
  const messageId = (frame[p]! << 8) | frame[p + 1]!
  p += 2
  const subscriptions: ISubscribePacket['subscriptions'] = []
  while (p < end) {
    if (end - p < 2) return undefined
    const len = (frame[p]! << 8) | frame[p + 1]!
    // the filter and its options byte
    if (p + 2 + len + 1 > end) return undefined
    const topic = frame.toString('utf8', p + 2, p + 2 + len)
    p += 2 + len
    const options = frame[p++]!
    // [MQTT-3.8.3-4] (3.1.1) reserved bits and QoS 3 are malformed: mqtt-packet says so
    if ((options & 0xfc) !== 0 || (options & 3) === 3) return undefined
    subscriptions.push({ topic, qos: (options & 3) as 0 | 1 | 2 })
  }
  if (subscriptions.length === 0) return undefined
  return { cmd: 'subscribe', messageId, subscriptions }
}
