// The v5 properties a PUBLISH carries [MQTT-3.3.2.3]. What the server forwards unchanged (payload
// format indicator, content type, response topic, correlation data, user properties) stays the
// bytes it came in: written as they are to every subscriber, decoded only if a hook, an in-process
// subscriber or the store reads them. What changes per delivery (topic alias, message expiry,
// subscription identifiers) is taken out and written anew.
import { validUtf8 } from './codec.ts'
import type { MessageProperties } from './types.ts'

/** What a v5 PUBLISH carries beyond the forwarded properties, read from its property block. */
export interface PublishExtras {
  topicAlias: number
  /** Seconds; -1 when absent. */
  messageExpiry: number
  /** The Payload Format Indicator; 0 when absent. */
  payloadFormat: number
  /** A property the client must not send or one repeated: the reason code to disconnect with. */
  error: number
}

/** Forwarded properties kept as their wire bytes, in the order they came [MQTT-3.3.2-18]. */
export class WireProperties implements MessageProperties {
  private decoded: MessageProperties | undefined

  constructor(
    /** Property entries (identifier, value), without a length prefix. */
    public raw: Buffer,
  ) {}

  private get all(): MessageProperties {
    this.decoded ??= decodeProperties(this.raw)
    return this.decoded
  }

  get payloadFormatIndicator(): 0 | 1 | undefined {
    return this.all.payloadFormatIndicator
  }

  get contentType(): string | undefined {
    return this.all.contentType
  }

  get responseTopic(): string | undefined {
    return this.all.responseTopic
  }

  get correlationData(): Buffer | undefined {
    return this.all.correlationData
  }

  get userProperties(): ReadonlyArray<readonly [string, string]> | undefined {
    return this.all.userProperties
  }

  /** The properties as a plain object (JSON, logs). */
  toJSON(): MessageProperties {
    return this.all
  }
}

/**
 * Reads and checks a v5 PUBLISH property block [MQTT-3.3.2.3], fills `extras`, and returns the
 * forwarded properties as a view of `buf` when they lie together (the usual case), else as a copy;
 * undefined when there are none.
 */
export function readPublishProperties(
  buf: Buffer,
  start: number,
  end: number,
  extras: PublishExtras,
): Buffer | undefined {
  extras.topicAlias = 0
  extras.messageExpiry = -1
  extras.payloadFormat = 0
  extras.error = 0
  let seen = 0
  let pos = start
  // The entries not forwarded (at most one alias and one expiry): where they start and end.
  let cut1 = -1
  let cut1End = -1
  let cut2 = -1
  let cut2End = -1
  while (pos < end) {
    const from = pos
    const id = buf[pos++]!
    // Properties other than user properties appear at most once (§2.2.2.2): a protocol error.
    const bit = id < 32 ? 1 << id : id === 0x23 ? 1 << 30 : 0
    if (id !== 0x26 && bit !== 0) {
      if (seen & bit) return fail(extras, 0x82)
      seen |= bit
    }
    switch (id) {
      case 0x01: {
        if (pos >= end) return fail(extras, 0x81)
        const v = buf[pos++]!
        if (v > 1) return fail(extras, 0x82)
        extras.payloadFormat = v
        break
      }
      case 0x02:
      case 0x23:
        if (pos + (id === 0x02 ? 4 : 2) > end) return fail(extras, 0x81)
        if (id === 0x02) {
          extras.messageExpiry = buf.readUInt32BE(pos)
          pos += 4
        } else {
          extras.topicAlias = buf.readUInt16BE(pos)
          pos += 2
        }
        if (cut1 < 0) {
          cut1 = from
          cut1End = pos
        } else {
          cut2 = from
          cut2End = pos
        }
        break
      case 0x03:
      case 0x08: {
        const n = utf8At(buf, pos, end)
        if (n < 0) return fail(extras, 0x81)
        // [MQTT-3.3.2-14] a Response Topic is a topic name, not a filter
        if (id === 0x08 && (n === 0 || hasWildcard(buf, pos + 2, pos + 2 + n))) return fail(extras, 0x82)
        pos += 2 + n
        break
      }
      case 0x09: {
        if (pos + 2 > end) return fail(extras, 0x81)
        const n = buf.readUInt16BE(pos)
        if (pos + 2 + n > end) return fail(extras, 0x81)
        pos += 2 + n
        break
      }
      case 0x26: {
        const kn = utf8At(buf, pos, end)
        if (kn < 0) return fail(extras, 0x81)
        pos += 2 + kn
        const vn = utf8At(buf, pos, end)
        if (vn < 0) return fail(extras, 0x81)
        pos += 2 + vn
        break
      }
      // [MQTT-3.3.4-6] a PUBLISH from a client must not carry a Subscription Identifier
      case 0x0b:
        return fail(extras, 0x82)
      default:
        return fail(extras, 0x81)
    }
  }
  if (cut1 < 0) return end > start ? buf.subarray(start, end) : undefined
  // Forwarded entries before, between and after the two taken out.
  const a0 = start
  const a1 = cut1
  const b0 = cut1End
  const b1 = cut2 < 0 ? end : cut2
  const c0 = cut2 < 0 ? end : cut2End
  const c1 = end
  const n = a1 - a0 + (b1 - b0) + (c1 - c0)
  if (n === 0) return undefined
  if (n === a1 - a0) return buf.subarray(a0, a1)
  if (n === b1 - b0) return buf.subarray(b0, b1)
  if (n === c1 - c0) return buf.subarray(c0, c1)
  const out = Buffer.allocUnsafe(n)
  let o = buf.copy(out, 0, a0, a1)
  o += buf.copy(out, o, b0, b1)
  buf.copy(out, o, c0, c1)
  return out
}

function fail(extras: PublishExtras, code: number): undefined {
  extras.error = code
  return undefined
}

/** The length of the UTF-8 string at `pos` (after its 2-byte length), or -1 when it is not one. */
function utf8At(buf: Buffer, pos: number, end: number): number {
  if (pos + 2 > end) return -1
  const n = buf.readUInt16BE(pos)
  if (pos + 2 + n > end || !validUtf8(buf, pos + 2, pos + 2 + n)) return -1
  return n
}

function hasWildcard(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] === 0x2b || buf[i] === 0x23) return true
  return false
}

/** The forwarded properties of checked wire bytes (see readPublishProperties) as an object. */
function decodeProperties(raw: Buffer): MessageProperties {
  const props: MessageProperties = {}
  let pos = 0
  const end = raw.length
  let users: Array<readonly [string, string]> | undefined
  while (pos < end) {
    const id = raw[pos++]!
    if (id === 0x01) {
      props.payloadFormatIndicator = raw[pos++] as 0 | 1
      continue
    }
    const n = raw.readUInt16BE(pos)
    pos += 2
    if (id === 0x09) props.correlationData = Buffer.from(raw.subarray(pos, pos + n))
    else if (id === 0x03) props.contentType = raw.toString('utf8', pos, pos + n)
    else if (id === 0x08) props.responseTopic = raw.toString('utf8', pos, pos + n)
    else if (id === 0x26) {
      const k = raw.toString('utf8', pos, pos + n)
      pos += n
      const vn = raw.readUInt16BE(pos)
      pos += 2
      users ??= []
      users.push([k, raw.toString('utf8', pos, pos + vn)])
      pos += vn
      continue
    }
    pos += n
  }
  if (users) props.userProperties = users
  return props
}
