import { readFileSync } from 'node:fs'
import type { Socket } from 'node:net'
import { createServer, type Server, type TLSSocket } from 'node:tls'
import { ListenError } from '../http/server.ts'
import type { Logger } from '../log.ts'
import type { Service, ServiceContext } from '../runtime/service.ts'
import type { Broker } from './broker.ts'

export interface TlsListenerOptions {
  broker: Broker
  log: Logger
  host: string
  port: number
  /** PEM text or a path to a PEM file (`mqtt.tls.cert`). */
  cert: string
  key: string
  /** CA that signs client certificates (`mqtt.tls.ca`); needed with `requireClientCert`. */
  ca?: string | undefined
  /** Only clients with a certificate from `ca` get in; the auth plugin maps its CN to a device. */
  requireClientCert: boolean
}

export interface TlsListener extends Service {
  readonly port: number
}

/**
 * MQTT over TLS (issue 3 point 1), through the same Aedes (so the same auth and ACL) as TCP.
 * Not supervised: a listener that cannot bind fails the hub's start with a ListenError.
 */
export function createTlsListener(opts: TlsListenerOptions): TlsListener {
  const log = opts.log.child('mqtts')
  let server: Server | undefined
  let bound = opts.port
  const sockets = new Set<Socket>()

  return {
    name: 'mqtt-tls',
    get port() {
      return bound
    },
    async start(ctx: ServiceContext) {
      if (server) return
      if (opts.requireClientCert && !opts.ca)
        throw new Error(
          'mqtt.tls.requireClientCert needs mqtt.tls.ca (the CA that signs device certificates)',
        )
      const srv = createServer({
        cert: pem(opts.cert, 'mqtt.tls.cert'),
        key: pem(opts.key, 'mqtt.tls.key'),
        ...(opts.ca ? { ca: pem(opts.ca, 'mqtt.tls.ca') } : {}),
        requestCert: opts.requireClientCert,
        rejectUnauthorized: opts.requireClientCert,
        minVersion: 'TLSv1.2',
      })
      srv.on('secureConnection', (socket: TLSSocket) => {
        sockets.add(socket)
        socket.once('close', () => sockets.delete(socket))
        opts.broker.aedes.handle(socket)
      })
      // A failed handshake (plain MQTT on the TLS port, an unknown certificate) concerns one peer.
      srv.on('tlsClientError', (err, socket) =>
        log.debug('TLS handshake failed', { address: socket.remoteAddress, error: err.message }),
      )
      await new Promise<void>((resolve, reject) => {
        srv.once('error', (err) => reject(new ListenError('MQTT over TLS', opts.host, opts.port, err)))
        srv.listen(opts.port, opts.host, () => resolve())
      })
      srv.on('error', (err) => ctx.fail(err))
      server = srv
      const addr = srv.address()
      bound = typeof addr === 'object' && addr ? addr.port : opts.port
      log.info('listening', { host: opts.host, port: bound, clientCertificates: opts.requireClientCert })
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

/** A config value that is either PEM text or the path of a PEM file. */
function pem(value: string, key: string): string {
  if (value.includes('-----BEGIN')) return value
  try {
    return readFileSync(value, 'utf8')
  } catch (err) {
    throw new Error(`${key}: cannot read ${value}: ${(err as Error).message}`, { cause: err })
  }
}
