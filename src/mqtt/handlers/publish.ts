// PUBLISH from a client [MQTT-3.3], read in place: topic (or topic alias), packet id, v5
// properties, payload. Then authorizePublish, accept (retain + route) and the acknowledgement,
// held until the store has what the message changed (§4.3.2, §4.3.3).
import { type FrameHeader, PUBACK, PUBREC, readFrameHeader, validUtf8, writeAck } from '../codec.ts'
import type { Connection } from '../connection.ts'
import { isPromise } from '../promise.ts'
import { type PublishExtras, readPublishProperties, WireProperties } from '../properties.ts'
import { validTopicName } from '../topics.ts'
import type { Message, QoS } from '../types.ts'

const extras: PublishExtras = { topicAlias: 0, messageExpiry: -1, payloadFormat: 0, error: 0 }
const propHeader: FrameHeader = { headerLen: 0, remaining: 0 }

export function handlePublish(
  conn: Connection,
  flags: number,
  buf: Buffer,
  start: number,
  end: number,
): void | Promise<void> {
  const core = conn.core
  const qos = (flags >> 1) & 3
  // [MQTT-3.3.1-4] both QoS bits set is malformed
  if (qos === 3) return conn.close(0x81, 'QoS 3')
  if (start + 2 > end) return conn.close(0x81, 'PUBLISH too short')
  const topicLen = buf.readUInt16BE(start)
  let pos = start + 2
  if (pos + topicLen > end) return conn.close(0x81, 'PUBLISH topic past the end')
  let topic = topicName(conn, buf, pos, topicLen)
  // [MQTT-1.5.4-1] (3.1.1 [MQTT-1.5.3-1]) the topic must be well-formed UTF-8
  if (topic === undefined) return conn.close(0x81, 'topic is not valid UTF-8')
  pos += topicLen
  let packetId = 0
  if (qos > 0) {
    if (pos + 2 > end) return conn.close(0x81, 'PUBLISH without packet id')
    packetId = buf.readUInt16BE(pos)
    pos += 2
    // [MQTT-2.2.1-3] (3.1.1 [MQTT-2.3.1-1]) a QoS > 0 PUBLISH needs a non-zero packet id
    if (packetId === 0) return conn.close(0x82, 'packet id 0')
  }
  const v5 = conn.protocolLevel === 5
  let properties: Buffer | undefined
  let expiresAt: number | undefined
  if (v5) {
    if (pos >= end) return conn.close(0x81, 'PUBLISH without properties')
    // The Property Length is a Variable Byte Integer [MQTT-1.5.5], read as the Remaining Length
    // that would follow a type byte at pos - 1.
    readFrameHeader(buf, pos - 1, end, propHeader)
    if (propHeader.headerLen <= 0) return conn.close(0x81, 'bad property length')
    const propLen = propHeader.remaining
    pos += propHeader.headerLen - 1
    if (pos + propLen > end) return conn.close(0x81, 'properties past the end')
    properties = readPublishProperties(buf, pos, pos + propLen, extras)
    if (extras.error) return conn.close(extras.error, 'bad PUBLISH properties')
    pos += propLen
    if (extras.messageExpiry >= 0) expiresAt = core.now() + extras.messageExpiry * 1000
    const alias = extras.topicAlias
    if (alias !== 0 || topic.length === 0) {
      // [MQTT-3.3.2-9], [MQTT-3.3.2-10] an alias is 1 … the server's Topic Alias Maximum
      if (alias === 0 || alias > core.limits.topicAliasMaximum) return conn.close(0x94, 'topic alias invalid')
      conn.aliasesIn ??= new Map()
      const aliases = conn.aliasesIn
      if (topic.length > 0) aliases.set(alias, topic)
      else {
        const known = aliases.get(alias)
        // §3.3.2.3.4 an empty topic with an alias the client never set is a protocol error
        if (known === undefined) return conn.close(0x82, 'unknown topic alias')
        topic = known
      }
    }
  }
  if (core.hooks.rewriteTopic) topic = core.hooks.rewriteTopic(conn, topic)
  // [MQTT-3.3.2-2] no wildcards in a topic name; [MQTT-4.7.3-1] not empty
  if (!validTopicName(topic, core.limits.maxTopicLevels))
    return conn.close(v5 ? 0x90 : 0x81, 'invalid topic name')
  // QoS 0 is mostly written out and forgotten within this call: a view of the read, copied only
  // where the engine keeps it (EngineCore.own). QoS 1/2 is queued or stored: it owns its bytes.
  const payload = qos === 0 ? buf.subarray(pos, end) : Buffer.from(buf.subarray(pos, end))
  // [MQTT-3.3.2-4] a payload marked UTF-8 must be UTF-8: 0x99 payload format invalid
  if (v5 && extras.payloadFormat === 1 && !validUtf8(payload, 0, payload.length)) {
    if (qos === 0) return conn.close(0x99, 'payload is not UTF-8')
    writeAck(conn.out, qos === 1 ? PUBACK : PUBREC, packetId, 5, 0x99)
    core.markDirty(conn)
    return
  }
  const session = conn.session!
  if (qos === 2) {
    // [MQTT-4.3.3-10] a PUBLISH whose id awaits PUBREL is not delivered again
    if (session.hasIncoming(packetId)) {
      writeAck(conn.out, PUBREC, packetId, conn.protocolLevel)
      core.gate(conn)
      core.markDirty(conn)
      return
    }
    // [MQTT-3.3.4-9] more QoS > 0 PUBLISHes unacknowledged than the server's Receive Maximum
    if (v5 && session.incomingCount + conn.acksHeld >= core.limits.receiveMaximum) {
      return conn.close(0x93, 'receive maximum exceeded')
    }
  } else if (qos === 1 && v5 && conn.acksHeld + session.incomingCount >= core.limits.receiveMaximum) {
    return conn.close(0x93, 'receive maximum exceeded')
  }
  const message: Message = { topic, payload, qos: qos as QoS, retain: (flags & 1) === 1 }
  // Forwarded as the bytes they came in; QoS 1/2 owns them like its payload.
  if (properties) message.properties = new WireProperties(qos === 0 ? properties : Buffer.from(properties))
  if (expiresAt !== undefined) message.expiresAt = expiresAt

  const authorize = core.hooks.authorizePublish
  if (!authorize) return finish(conn, message, packetId, undefined)
  let r: Message | number | undefined | Promise<Message | number | undefined>
  try {
    r = authorize(conn, message)
  } catch (err) {
    return core.hookFailed(conn, 'authorizePublish', err)
  }
  if (isPromise<Message | number | undefined>(r)) return finishLater(conn, message, packetId, r)
  finish(conn, message, packetId, r)
}

/** Apart from handlePublish so that it makes no closure (nor scope for one) per PUBLISH. */
function finishLater(
  conn: Connection,
  message: Message,
  packetId: number,
  verdict: Promise<Message | number | undefined>,
): Promise<void> {
  return verdict.then(
    (v) => finish(conn, message, packetId, v),
    (err: unknown) => conn.core.hookFailed(conn, 'authorizePublish', err),
  )
}

/**
 * The topic name at `pos`: the string read last time when the bytes are the same (a publisher
 * mostly repeats its topic), so a flood decodes and validates no topic twice. Undefined when the
 * bytes are not UTF-8.
 */
function topicName(conn: Connection, buf: Buffer, pos: number, len: number): string | undefined {
  if (len === 0) return ''
  const last = conn.lastTopicBytes
  if (last !== undefined && last.length === len) {
    let i = 0
    while (i < len && last[i] === buf[pos + i]) i++
    if (i === len) return conn.lastTopic
  }
  if (!validUtf8(buf, pos, pos + len)) return undefined
  const topic = buf.toString('utf8', pos, pos + len)
  if (len <= 256) {
    conn.lastTopicBytes = Buffer.from(buf.subarray(pos, pos + len))
    conn.lastTopic = topic
  }
  return topic
}

function finish(
  conn: Connection,
  message: Message,
  packetId: number,
  verdict: Message | number | undefined,
): void {
  if (conn.state === 3) return
  const core = conn.core
  const qos = message.qos
  let reason = 0
  if (typeof verdict === 'number' && verdict >= 0x80) {
    // [MQTT-3.3.5-2] refused: 3.1.1 acknowledges and routes nowhere; v5 says why
    reason = verdict
    core.counters.droppedMessages++
  } else {
    const n = core.accept(typeof verdict === 'object' ? verdict : message, conn)
    // 0x10 No matching subscribers: the message was accepted all the same [MQTT-3.4.2.1]
    if (n === 0 && qos > 0) reason = 0x10
  }
  if (qos === 0) return
  const session = conn.session!
  if (qos === 2 && reason < 0x80) {
    session.addIncoming(packetId)
    if (session.persistent) core.op({ op: 'incoming', clientId: session.clientId, packetId })
  }
  writeAck(conn.out, qos === 1 ? PUBACK : PUBREC, packetId, conn.protocolLevel, reason)
  if (core.uncommitted) {
    if (qos === 1) conn.acksHeld++
    core.gate(conn)
  }
  core.markDirty(conn)
}
