import { createServer, type SecureContextOptions, type Server } from 'node:tls'
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

/** The certificate files of `mqtt.tls`: PEM text or paths. */
export type TlsFiles = Pick<TlsListenerOptions, 'cert' | 'key' | 'ca'>

export interface TlsListener extends SocketListener {
  /**
   * Reads the certificate, key and CA again (a config reload, a renewed certificate): connections
   * made from now on get them, open ones keep theirs. Answers whether anything changed; throws,
   * changing nothing, when a file cannot be read or the key does not fit the certificate.
   */
  reloadCertificate(files?: TlsFiles): boolean
}

function readFiles(files: TlsFiles): SecureContextOptions {
  return {
    cert: readPem(files.cert, 'mqtt.tls.cert'),
    key: readPem(files.key, 'mqtt.tls.key'),
    ...(files.ca ? { ca: readPem(files.ca, 'mqtt.tls.ca') } : {}),
  }
}

/**
 * MQTT over TLS (issue 3 point 1), through the same Aedes (so the same auth and ACL) as TCP.
 * Not supervised: a listener that cannot bind fails the hub's start with a ListenError.
 */
export function createTlsListener(opts: TlsListenerOptions): TlsListener {
  const log = opts.log.child('mqtts')
  let files: TlsFiles = { cert: opts.cert, key: opts.key, ca: opts.ca }
  let pems: SecureContextOptions | undefined
  let server: Server | undefined
  const listener = createSocketListener({
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
      pems = readFiles(files)
      const srv = createServer({
        ...pems,
        requestCert: opts.requireClientCert,
        rejectUnauthorized: opts.requireClientCert,
        minVersion: 'TLSv1.2',
      })
      srv.on('secureConnection', accept)
      // A failed handshake (plain MQTT on the TLS port, an unknown certificate) concerns one peer.
      srv.on('tlsClientError', (err, socket) =>
        log.debug('TLS handshake failed', { address: socket.remoteAddress, error: err.message }),
      )
      server = srv
      return srv
    },
  })
  return Object.assign(listener, {
    reloadCertificate(next: TlsFiles = files) {
      const read = readFiles(next)
      const changed = Boolean(server) && JSON.stringify(read) !== JSON.stringify(pems)
      // A new secure context replaces the whole one: minVersion goes with it.
      if (changed) server?.setSecureContext({ ...read, minVersion: 'TLSv1.2' })
      files = next
      pems = read
      if (changed) log.info('certificate reloaded; new connections get it')
      return changed
    },
  })
}
