// Writing a PUBLISH to one client: v5 properties (what is left of the expiry, subscription
// identifiers, the forwarded properties as the bytes they came in), topic aliases towards the
// client, and its Maximum Packet Size. One scratch descriptor serves every delivery.
import { type OutgoingPublish, publishSize, writePublish } from './codec.ts'
import type { Connection } from './connection.ts'
import { WireProperties } from './properties.ts'
import type { Message } from './types.ts'

export class PublishWriter {
  private readonly o: OutgoingPublish = {
    topic: '',
    aliasOnly: false,
    topicAlias: 0,
    payload: Buffer.alloc(0),
    qos: 0,
    retain: false,
    dup: false,
    packetId: 0,
    properties: undefined,
    rawProperties: undefined,
    messageExpiry: -1,
    subscriptionIds: undefined,
  }

  /** Writes into the connection's output buffer; false when larger than the client takes [MQTT-3.1.2-24]. */
  write(
    conn: Connection,
    m: Message,
    qos: number,
    retain: boolean,
    packetId: number,
    dup: boolean,
    subscriptionIds: readonly number[] | undefined,
    now: () => number,
  ): boolean {
    const level = conn.protocolLevel
    const o = this.o
    o.topic = m.topic
    o.payload = m.payload
    o.qos = qos
    o.retain = retain
    o.dup = dup
    o.packetId = packetId
    o.aliasOnly = false
    o.topicAlias = 0
    o.properties = undefined
    o.rawProperties = undefined
    o.messageExpiry = -1
    o.subscriptionIds = undefined
    let newAlias = false
    if (level === 5) {
      const props = m.properties
      // Forwarded as the bytes they came in when nothing replaced them.
      if (props instanceof WireProperties) o.rawProperties = props.raw
      else o.properties = props
      // [MQTT-3.3.2-6] the interval sent is what is left of it
      if (m.expiresAt !== undefined) o.messageExpiry = Math.max(0, Math.ceil((m.expiresAt - now()) / 1000))
      o.subscriptionIds = subscriptionIds
      if (conn.aliasMaxOut > 0) {
        conn.aliasesOut ??= new Map()
        const aliases = conn.aliasesOut
        const a = aliases.get(m.topic)
        if (a !== undefined) {
          o.topicAlias = a
          o.aliasOnly = true
        } else if (aliases.size < conn.aliasMaxOut) {
          // [MQTT-3.3.2-11] never above the client's Topic Alias Maximum
          o.topicAlias = aliases.size + 1
          aliases.set(m.topic, o.topicAlias)
          newAlias = true
        }
      }
    }
    const size = publishSize(o, level)
    if (size.size > conn.maxPacketOut) {
      if (newAlias) conn.aliasesOut!.delete(m.topic)
      return false
    }
    writePublish(conn.out, o, level, size)
    return true
  }
}
