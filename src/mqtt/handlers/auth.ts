// AUTH [MQTT-3.15]: no extended authentication method is implemented, so an AUTH packet is
// answered with 0x8C bad authentication method [MQTT-4.12.0-1]; before 5.0 the packet type is
// reserved, which makes the packet malformed [MQTT-2.1.3-?].
import type { Connection } from '../connection.ts'

export function handleAuth(conn: Connection): undefined {
  if (conn.protocolLevel !== 5) return conn.close(0x81, 'reserved packet type')
  conn.close(0x8c, 'bad authentication method')
}
