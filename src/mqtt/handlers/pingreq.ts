// PINGREQ → PINGRESP [MQTT-3.12.4-1].
import { writePingresp } from '../codec.ts'
import type { Connection } from '../connection.ts'

export function handlePingreq(conn: Connection, flags: number, start: number, end: number): undefined {
  // [MQTT-2.1.3-1] reserved flags 0; PINGREQ has no body
  if (flags !== 0 || end !== start) return conn.close(0x81, 'malformed PINGREQ')
  writePingresp(conn.out)
  conn.core.markDirty(conn)
}
