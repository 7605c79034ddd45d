// MQTT over WebSocket for Bun.serve [MQTT-6.0]: binary frames only [MQTT-6.0.0-1], the `mqtt`
// subprotocol echoed [MQTT-6.0.0-3], frames no larger than a packet may be (maxPayloadLength).
import type { Server, ServerWebSocket, WebSocketHandler } from 'bun'
import type { Connection } from '../connection.ts'
import type { MqttEngine } from '../engine.ts'

export interface MqttSocketData {
  /** Set by `upgrade`, so a host serving several WebSocket kinds can tell which is MQTT. */
  readonly kind: 'mqtt'
  readonly remoteAddress: string
  conn: Connection | undefined
}

export interface MqttWebSocket {
  /** Pass as (or dispatch to from) `Bun.serve({ websocket })`. */
  websocket: WebSocketHandler<MqttSocketData>
  /** Upgrades a request to MQTT over WebSocket; false when it is not one (answer 400 then). */
  upgrade(req: Request, server: Server<MqttSocketData>): boolean
}

const SUBPROTOCOLS = ['mqtt', 'mqttv3.1']

export function createMqttWebSocket(engine: MqttEngine): MqttWebSocket {
  return {
    upgrade(req, server) {
      const offered = (req.headers.get('sec-websocket-protocol') ?? '').split(',').map((s) => s.trim())
      const chosen = SUBPROTOCOLS.find((p) => offered.includes(p))
      if (!chosen) return false
      return server.upgrade(req, {
        headers: { 'Sec-WebSocket-Protocol': chosen },
        data: { kind: 'mqtt', remoteAddress: server.requestIP(req)?.address ?? '', conn: undefined },
      })
    },
    websocket: {
      maxPayloadLength: engine.limits.maxPacketSize,
      open(ws: ServerWebSocket<MqttSocketData>) {
        ws.data.conn = engine.open(
          {
            write: (data) => (ws.sendBinary(data) === 0 ? 0 : data.length),
            buffered: () => ws.getBufferedAmount(),
            end: () => ws.close(),
            pause: () => ws.pause(),
            resume: () => ws.resume(),
          },
          { transport: 'ws', remoteAddress: ws.data.remoteAddress },
        )
      },
      message(ws, message) {
        // [MQTT-6.0.0-1] MQTT travels in binary frames; a text frame closes the connection
        if (typeof message === 'string') {
          if (ws.data.conn) ws.data.conn.close(0x81, 'text frame')
          else ws.close()
          return
        }
        ws.data.conn?.onData(message)
      },
      drain(ws) {
        ws.data.conn?.onDrain()
      },
      close(ws) {
        ws.data.conn?.onClose()
        ws.data.conn = undefined
      },
    },
  }
}
