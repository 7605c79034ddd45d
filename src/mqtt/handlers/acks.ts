// PUBACK, PUBREC, PUBREL and PUBCOMP from a client [MQTT-3.4] … [MQTT-3.7]: the QoS 1 and QoS 2
// flows, read in place (packet id, then a v5 reason code when the packet is longer than 2).
import { PUBCOMP, PUBREL, writeAck } from '../codec.ts'
import type { Connection } from '../connection.ts'
import type { Session } from '../session.ts'

/**
 * The packet id of an ack whose fixed-header flags must be `flags` ([MQTT-2.1.3-1]: 0000, PUBREL
 * 0010 [MQTT-3.6.1-1]), or 0 after closing the connection for a malformed one, or when the
 * connection has no session to apply it to.
 */
function packetIdOf(
  conn: Connection,
  flags: number,
  expected: number,
  buf: Buffer,
  start: number,
  end: number,
): number {
  if (flags !== expected) {
    conn.close(0x81, 'reserved flags set')
    return 0
  }
  // §3.4.2 2 bytes of packet id (v5: then a reason code and properties)
  if (end - start < 2 || (conn.protocolLevel !== 5 && end - start !== 2)) {
    conn.close(0x81, 'malformed acknowledgement')
    return 0
  }
  const id = buf.readUInt16BE(start)
  if (id === 0) conn.close(0x82, 'packet id 0')
  return conn.session ? id : 0
}

function reasonOf(buf: Buffer, start: number, end: number): number {
  return end - start > 2 ? buf[start + 2]! : 0
}

type AckHandler = (conn: Connection, flags: number, buf: Buffer, start: number, end: number) => undefined

/**
 * The handler of an ack whose fixed-header flags must be `flags`: `apply` runs only for a
 * well-formed ack on a connection with a session, with its packet id and (v5) reason code.
 */
function ackHandler(
  flags: number,
  apply: (conn: Connection, session: Session, id: number, reason: number) => void,
): AckHandler {
  return (conn, actual, buf, start, end) => {
    const id = packetIdOf(conn, actual, flags, buf, start, end)
    const session = conn.session
    if (id === 0 || !session) return
    apply(conn, session, id, reasonOf(buf, start, end))
  }
}

/** PUBACK (§4.3.2) or PUBCOMP (§4.3.3): an outgoing flow ends, the next queued message may go. */
const endFlow = ackHandler(0, (conn, session, id, reason) => {
  // A v5 PUBACK with a failure code ends the flow too, but the client did not take the message.
  const by = reason < 0x80 ? conn : undefined
  if (conn.core.complete(session, id, by)) conn.core.pump(session)
})

export const handlePuback = endFlow
export const handlePubcomp = endFlow

export const handlePubrec = ackHandler(0, (conn, session, id, reason) => {
  const core = conn.core
  const item = session.inflight?.get(id)
  if (!item) {
    // §3.6.2.1 v5: PUBREL with 0x92 packet identifier not found
    writeAck(conn.out, PUBREL, id, conn.protocolLevel, 0x92)
    core.markDirty(conn)
    return
  }
  if (reason >= 0x80) {
    // §4.3.3 a PUBREC with an error ends the flow: no PUBREL
    core.complete(session, id)
    core.pump(session)
    return
  }
  // [MQTT-4.3.3-4] answer PUBREC with PUBREL, and keep the id until PUBCOMP
  if (item.state !== 'released') {
    item.state = 'released'
    if (session.persistent) {
      core.op({ op: 'outgoing', clientId: session.clientId, seq: item.seq, packetId: id, state: 'released' })
    }
  }
  writeAck(conn.out, PUBREL, id, conn.protocolLevel)
  core.markDirty(conn)
})

export const handlePubrel = ackHandler(2, (conn, session, id) => {
  const core = conn.core
  const known = session.releaseIncoming(id)
  if (known && session.persistent)
    core.op({ op: 'incoming-release', clientId: session.clientId, packetId: id })
  // [MQTT-4.3.3-11] PUBCOMP with the same id; v5 0x92 when it was not known
  writeAck(conn.out, PUBCOMP, id, conn.protocolLevel, known ? 0 : 0x92)
  core.gate(conn)
  core.markDirty(conn)
})
