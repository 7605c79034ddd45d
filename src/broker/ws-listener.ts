import { Duplex } from 'node:stream'
import type { ServerWebSocket } from 'bun'
import type { WsData, WsRoute } from '../http/server.ts'
import type { Logger } from '../log.ts'
import type { Broker } from './broker.ts'

export interface MqttWsOptions {
  broker: Broker
  log: Logger
  /** `/mqtt` unless configured otherwise. */
  path: string
}

interface MqttWsState {
  address: string | undefined
  stream?: WsStream
}

/** Subprotocols MQTT clients offer: `mqtt` (3.1.1, [MQTT-6.0.0-3]) and `mqttv3.1` (MQTT 3.1). */
const SUBPROTOCOLS = ['mqtt', 'mqttv3.1']

/**
 * One WebSocket as the byte stream Aedes reads (`broker.handle`), with backpressure both ways:
 * when Aedes stops reading the socket is paused; when Bun's send buffer is full, writes wait for
 * `drain` (issue 3 point 1).
 */
export class WsStream extends Duplex {
  readonly remoteAddress: string | undefined
  private pendingWrite: (() => void) | undefined

  constructor(
    private readonly ws: ServerWebSocket<WsData>,
    address: string | undefined,
  ) {
    super()
    this.remoteAddress = address
  }

  /** Bytes Bun holds for the client beyond the stream's own buffer (read by the limits plugin). */
  queuedBytes(): number {
    return this.ws.readyState === 1 ? this.ws.getBufferedAmount() : 0
  }

  /** A frame from the client. */
  received(data: Buffer) {
    if (!this.push(data) && !this.ws.isPaused) this.ws.pause()
  }

  /** Bun has room again. */
  drained() {
    const next = this.pendingWrite
    this.pendingWrite = undefined
    next?.()
  }

  override _read() {
    if (this.ws.readyState === 1 && this.ws.isPaused) this.ws.resume()
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void) {
    if (this.ws.readyState !== 1) return done(new Error('websocket closed'))
    // -1: queued under backpressure, 0: dropped. Either way hold further writes until 'drain'.
    const sent = this.ws.sendBinary(chunk)
    if (sent > 0) return done()
    if (sent === 0) return done(new Error('websocket send dropped'))
    this.pendingWrite = () => done()
  }

  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void) {
    // mqtt-packet writes a packet in pieces; one frame per packet piece batch keeps frames few.
    this._write(Buffer.concat(chunks.map((c) => c.chunk)), 'binary', done)
  }

  override _final(done: (err?: Error | null) => void) {
    if (this.ws.readyState === 1) this.ws.close(1000)
    done()
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void) {
    this.pendingWrite = undefined
    if (this.ws.readyState === 1) this.ws.close(err ? 1011 : 1000)
    done(err)
  }
}

/** MQTT over WebSocket on the HTTP port, through the same broker (so the same auth and ACL). */
export function createMqttWsRoute(opts: MqttWsOptions): WsRoute<MqttWsState> {
  const log = opts.log.child('mqtt-ws')
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
      const state: MqttWsState = { address: server.requestIP(req)?.address }
      return protocol ? { state, protocol } : { state }
    },
    handler: {
      open(ws, state) {
        const stream = new WsStream(ws, state.address)
        state.stream = stream
        stream.on('error', (err) => log.debug('websocket stream error', { error: err.message }))
        opts.broker.aedes.handle(stream)
      },
      message(ws, state, msg) {
        // [MQTT-6.0.0-1] MQTT travels in binary frames; a text frame ends the connection.
        if (typeof msg === 'string') {
          ws.close(1003, 'MQTT needs binary frames')
          return
        }
        state.stream?.received(msg)
      },
      drain(_ws, state) {
        state.stream?.drained()
      },
      close(_ws, state) {
        const stream = state.stream
        state.stream = undefined
        if (!stream) return
        stream.push(null)
        stream.destroy()
      },
    },
  }
}
