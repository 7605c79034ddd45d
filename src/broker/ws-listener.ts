import type { Connection } from '../mqtt/connection.ts'
import type { WsRoute } from '../runtime/ws-route.ts'
import type { Broker } from './broker.ts'

interface MqttWsOptions {
  broker: Broker
  /** `/mqtt` unless configured otherwise. */
  path: string
}

interface MqttWsState {
  address: string
  conn?: Connection | undefined
}

/** Subprotocols MQTT clients offer: `mqtt` (3.1.1 and 5, [MQTT-6.0.0-3]) and `mqttv3.1` (MQTT 3.1). */
const SUBPROTOCOLS = ['mqtt', 'mqttv3.1']

/**
 * MQTT over WebSocket on the HTTP port, feeding the engine's one input path (so the same auth and
 * ACL as TCP). The server's `maxPayloadLength` is tied to `mqtt.maxPacketSize`: no frame larger
 * than a packet is buffered.
 */
export function createMqttWsRoute(opts: MqttWsOptions): WsRoute<MqttWsState> {
  const { engine } = opts.broker
  return {
    path: opts.path,
    async accept(req, server) {
      const offered = (req.headers.get('sec-websocket-protocol') ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)
      const protocol = offered.find((p) => SUBPROTOCOLS.includes(p))
      // A client that offers only other protocols is not speaking MQTT; one that offers none is
      // accepted (some embedded clients send no header), and gets none echoed.
      if (offered.length > 0 && !protocol) {
        return new Response('MQTT over WebSocket needs the "mqtt" subprotocol', { status: 400 })
      }
      const state: MqttWsState = { address: server.requestIP(req)?.address ?? '' }
      return protocol ? { state, protocol } : { state }
    },
    handler: {
      open(ws, state) {
        state.conn = engine.open(
          {
            // -1: queued under backpressure (the rest waits for drain), 0: dropped.
            write: (data) => (ws.sendBinary(data) === 0 ? 0 : data.length),
            buffered: () => (ws.readyState === 1 ? ws.getBufferedAmount() : 0),
            end: () => ws.close(),
            pause: () => ws.pause(),
            resume: () => ws.resume(),
          },
          { transport: 'ws', remoteAddress: state.address },
        )
      },
      message(ws, state, msg) {
        // [MQTT-6.0.0-1] MQTT travels in binary frames; a text frame ends the connection.
        if (typeof msg === 'string') {
          ws.close(1003, 'MQTT needs binary frames')
          return
        }
        state.conn?.onData(msg)
      },
      drain(_ws, state) {
        state.conn?.onDrain()
      },
      close(_ws, state) {
        state.conn?.onClose()
        state.conn = undefined
      },
    },
  }
}
