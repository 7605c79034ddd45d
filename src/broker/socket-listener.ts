import type { Server, Socket } from 'node:net'
import { ListenError } from '../http/server.ts'
import type { Logger } from '../log.ts'
import type { Service, ServiceContext } from '../runtime/service.ts'
import type { Broker } from './broker.ts'

export interface SocketListenerOptions {
  /** The service's name (`mqtt-tcp`). */
  name: string
  /** What a ListenError says could not listen (`MQTT`). */
  what: string
  broker: Broker
  log: Logger
  host: string
  port: number
  /** Builds the server on `start()`; it hands each connection ready for MQTT to `accept`. */
  createServer(accept: (socket: Socket) => void): Server
  /** Extra fields of the `listening` log line. */
  listening?: Record<string, unknown>
}

export interface SocketListener extends Service {
  readonly port: number
}

/**
 * A socket server whose connections go to the broker's Aedes. Not supervised: a listener that
 * cannot bind fails the hub's start with a ListenError, one that fails later takes the hub down.
 */
export function createSocketListener(opts: SocketListenerOptions): SocketListener {
  let server: Server | undefined
  let bound = opts.port
  const sockets = new Set<Socket>()
  const accept = (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    opts.broker.aedes.handle(socket)
  }

  return {
    name: opts.name,
    get port() {
      return bound
    },
    async start(ctx: ServiceContext) {
      if (server) return
      const srv = opts.createServer(accept)
      await new Promise<void>((resolve, reject) => {
        srv.once('error', (err) => reject(new ListenError(opts.what, opts.host, opts.port, err)))
        srv.listen(opts.port, opts.host, () => resolve())
      })
      srv.on('error', (err) => ctx.fail(err))
      server = srv
      const addr = srv.address()
      bound = typeof addr === 'object' && addr ? addr.port : opts.port
      opts.log.info('listening', { host: opts.host, port: bound, ...opts.listening })
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
