import { createServer, type Server, type Socket } from 'node:net'
import { ListenError } from '../http/server.ts'
import type { Logger } from '../log.ts'
import type { Service, ServiceContext } from '../runtime/service.ts'
import type { Broker } from './broker.ts'

export interface TcpListenerOptions {
  broker: Broker
  log: Logger
  host: string
  port: number
}

export interface TcpListener extends Service {
  readonly port: number
}

/** Plain MQTT over TCP. Not supervised: a listener that fails takes the hub down (exit non-zero). */
export function createTcpListener(opts: TcpListenerOptions): TcpListener {
  const log = opts.log.child('mqtt')
  let server: Server | undefined
  let bound = opts.port
  const sockets = new Set<Socket>()

  return {
    name: 'mqtt-tcp',
    get port() {
      return bound
    },
    async start(ctx: ServiceContext) {
      if (server) return
      const srv = createServer((socket) => {
        sockets.add(socket)
        socket.once('close', () => sockets.delete(socket))
        opts.broker.aedes.handle(socket)
      })
      await new Promise<void>((resolve, reject) => {
        srv.once('error', (err) => reject(new ListenError('MQTT', opts.host, opts.port, err)))
        srv.listen(opts.port, opts.host, () => resolve())
      })
      srv.on('error', (err) => ctx.fail(err))
      server = srv
      const addr = srv.address()
      bound = typeof addr === 'object' && addr ? addr.port : opts.port
      log.info('listening', { host: opts.host, port: bound })
    },
    async stop() {
      const srv = server
      server = undefined
      if (!srv) return
      const closed = new Promise<void>((resolve) => srv.close(() => resolve()))
      for (const socket of sockets) socket.destroy()
      await closed
    },
  }
}
