import { createServer } from 'node:net'
import type { Logger } from '../log.ts'
import type { Broker } from './broker.ts'
import { createSocketListener, type SocketListener } from './socket-listener.ts'

export interface TcpListenerOptions {
  broker: Broker
  log: Logger
  host: string
  port: number
}

export type TcpListener = SocketListener

/** Plain MQTT over TCP. Not supervised: a listener that fails takes the hub down (exit non-zero). */
export function createTcpListener(opts: TcpListenerOptions): TcpListener {
  return createSocketListener({
    name: 'mqtt-tcp',
    what: 'MQTT',
    broker: opts.broker,
    log: opts.log.child('mqtt'),
    host: opts.host,
    port: opts.port,
    createServer: (accept) => createServer(accept),
  })
}
