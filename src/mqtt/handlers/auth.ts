// AUTH [MQTT-3.15]. No extended authentication method is implemented: a CONNECT naming one is
// refused with CONNACK 0x8C bad authentication method (handlers/connect.ts), so no connection
// ever has a method, and an AUTH packet on it is a protocol error (0x82; 0x8C is not a DISCONNECT
// reason code, §3.14.2.1) (§4.12). Before 5.0 the packet type is reserved: malformed.
import type { Connection } from '../connection.ts'

export function handleAuth(conn: Connection): undefined {
  if (conn.protocolLevel !== 5) return conn.close(0x81, 'reserved packet type')
  conn.close(0x82, 'no authentication method was agreed in CONNECT')
}
