import { createServer } from 'node:tls'
import type { Logger } from '../log.ts'
import { readPem } from '../tls/pem.ts'
import type { Broker } from './broker.ts'
import { createSocketListener, type SocketListener } from './socket-listener.ts'

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

export type TlsListener = SocketListener

/**
 * MQTT over TLS (issue 3 point 1), through the same Aedes (so the same auth and ACL) as TCP.
 * Not supervised: a listener that cannot bind fails the hub's start with a ListenError.
 */
export function createTlsListener(opts: TlsListenerOptions): TlsListener {
  const log = opts.log.child('mqtts')
  return createSocketListener({
    name: 'mqtt-tls',
    what: 'MQTT over TLS',
    broker: opts.broker,
    log,
    host: opts.host,
    port: opts.port,
    listening: { clientCertificates: opts.requireClientCert },
    createServer(accept) {
      if (opts.requireClientCert && !opts.ca)
        throw new Error(
          'mqtt.tls.requireClientCert needs mqtt.tls.ca (the CA that signs device certificates)',
        )
      const srv = createServer({
        cert: readPem(opts.cert, 'mqtt.tls.cert'),
        key: readPem(opts.key, 'mqtt.tls.key'),
        ...(opts.ca ? { ca: readPem(opts.ca, 'mqtt.tls.ca') } : {}),
        requestCert: opts.requireClientCert,
        rejectUnauthorized: opts.requireClientCert,
        minVersion: 'TLSv1.2',
      })
      srv.on('secureConnection', accept)
      // A failed handshake (plain MQTT on the TLS port, an unknown certificate) concerns one peer.
      srv.on('tlsClientError', (err, socket) =>
        log.debug('TLS handshake failed', { address: socket.remoteAddress, error: err.message }),
      )
      return srv
    },
  })
}
