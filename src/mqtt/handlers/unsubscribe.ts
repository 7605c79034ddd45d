// UNSUBSCRIBE → UNSUBACK [MQTT-3.10], [MQTT-3.11]: v5 answers one reason code per filter,
// 0x11 when there was no such subscription [MQTT-3.11.3-1].
import type { IUnsubscribePacket } from 'mqtt-packet'
import { looksMalformed, writePacket } from '../codec.ts'
import type { Connection } from '../connection.ts'

export function handleUnsubscribe(conn: Connection, frame: Buffer): undefined {
  // [MQTT-3.10.1-1] reserved flags 0010
  if ((frame[0]! & 0x0f) !== 2) return conn.close(0x81, 'UNSUBSCRIBE flags')
  let packet: IUnsubscribePacket
  try {
    packet = conn.core.parser.parse(frame, conn.protocolLevel) as IUnsubscribePacket
  } catch (err) {
    return conn.close(0x81, (err as Error).message)
  }
  // [MQTT-2.2.1-3] (3.1.1 [MQTT-2.3.1-1]) a non-zero packet id
  if (!packet.messageId) return conn.close(0x82, 'packet id 0')
  // [MQTT-3.10.3-2] at least one filter
  if (packet.unsubscriptions.length === 0) return conn.close(0x82, 'UNSUBSCRIBE without filters')
  const core = conn.core
  const session = conn.session!
  const codes: number[] = []
  for (const raw of packet.unsubscriptions) {
    if (looksMalformed(raw)) return conn.close(0x81, 'filter is not valid UTF-8')
    const filter = core.hooks.rewriteTopic ? core.hooks.rewriteTopic(conn, raw) : raw
    if (!session.subs.delete(filter)) {
      codes.push(0x11)
      continue
    }
    // [MQTT-3.10.4-1] the subscription is deleted; [MQTT-3.10.4-3] in-flight messages still complete
    core.unsubscribeTrie(session, filter)
    if (session.persistent) core.op({ op: 'unsubscribe', clientId: session.clientId, filter })
    codes.push(0)
  }
  const v5 = conn.protocolLevel === 5
  writePacket(
    conn.out,
    { cmd: 'unsuback', messageId: packet.messageId, granted: v5 ? codes : [] },
    conn.protocolLevel,
  )
  core.gate(conn)
  core.markDirty(conn)
}
