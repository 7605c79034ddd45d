// DISCONNECT from a client [MQTT-3.14]: 0x00 discards the will [MQTT-3.14.4-3], 0x04 publishes
// it; v5 may change the Session Expiry Interval, but not from 0 [MQTT-3.14.2-2].
import type { IDisconnectPacket } from 'mqtt-packet'
import type { Connection } from '../connection.ts'

export function handleDisconnect(conn: Connection, frame: Buffer): undefined {
  let packet: IDisconnectPacket
  try {
    packet = conn.core.parser.parse(frame, conn.protocolLevel) as IDisconnectPacket
  } catch (err) {
    return conn.close(0x81, (err as Error).message)
  }
  const session = conn.session
  const code = packet.reasonCode ?? 0
  const expiry = packet.properties?.sessionExpiryInterval
  if (session && expiry !== undefined) {
    if (session.expiryInterval === 0 && expiry > 0) return conn.close(0x82, 'session expiry changed from 0')
    session.expiryInterval = Math.min(expiry, conn.core.limits.maxSessionExpiryInterval)
    if (expiry === 0) conn.core.op({ op: 'session-delete', clientId: session.clientId })
  }
  // [MQTT-3.14.4-3] a normal disconnect discards the will; 0x04 asks for it
  if (code !== 0x04) conn.discardWill = true
  conn.cause = 'client'
  conn.close(code, 'client disconnected')
}
