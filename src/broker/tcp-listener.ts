import type { Logger } from '../log.ts'
import { listenTcp, type MqttListener, type TlsOptions } from '../mqtt/transports/tcp.ts'
import { ListenError } from '../runtime/listen-error.ts'
import type { Service } from '../runtime/service.ts'
import { readPem } from '../tls/pem.ts'
import type { Broker } from './broker.ts'

interface TcpListenerOptions {
  broker: Broker
  log: Logger
  host: string
  port: number
}

export interface TcpListener extends Service {
  /** The bound port (differs from the configured one when that was 0). */
  readonly port: number
}

interface TlsListenerOptions extends TcpListenerOptions {
  /** PEM text or a path to a PEM file (`mqtt.tls.cert`). */
  cert: string
  key: string
  /** CA that signs client certificates (`mqtt.tls.ca`); needed with `requireClientCert`. */
  ca?: string | undefined
  /** Only clients with a certificate from `ca` get in; the auth plugin maps its CN to a device. */
  requireClientCert: boolean
}

export interface TlsListener extends TcpListener {
  /**
   * Reads the certificate files again (throws when they cannot be read): new connections get the
   * new certificate, open ones stay. True when it changed.
   */
  reloadCertificate(files?: Pick<TlsListenerOptions, 'cert' | 'key' | 'ca'>): boolean
}

/**
 * A listener of the engine on `Bun.listen`. Not supervised: one that cannot bind fails the hub's
 * start with a ListenError.
 */
function createListener(
  name: string,
  what: string,
  opts: TcpListenerOptions,
  log: Logger,
  tls: () => TlsOptions | undefined,
  extra: Record<string, unknown> = {},
) {
  let listener: MqttListener | undefined
  return {
    name,
    get port() {
      return listener?.port ?? opts.port
    },
    get listener() {
      return listener
    },
    start() {
      if (listener) return
      try {
        listener = listenTcp(opts.broker.engine, { hostname: opts.host, port: opts.port, tls: tls() })
      } catch (err) {
        throw new ListenError(what, opts.host, opts.port, err)
      }
      log.info('listening', { host: opts.host, port: listener.port, ...extra })
    },
    stop() {
      listener?.stop(true)
      listener = undefined
    },
  }
}

/** Plain MQTT over TCP. */
export function createTcpListener(opts: TcpListenerOptions): TcpListener {
  return createListener('mqtt-tcp', 'MQTT', opts, opts.log.child('mqtt'), () => undefined)
}

/** MQTT over TLS, through the same engine (so the same auth and ACL) as TCP. */
export function createTlsListener(opts: TlsListenerOptions): TlsListener {
  if (opts.requireClientCert && !opts.ca)
    throw new Error('mqtt.tls.requireClientCert needs mqtt.tls.ca (the CA that signs device certificates)')
  let files = { cert: opts.cert, key: opts.key, ca: opts.ca }
  const tlsOptions = (): TlsOptions => ({
    cert: readPem(files.cert, 'mqtt.tls.cert'),
    key: readPem(files.key, 'mqtt.tls.key'),
    ...(files.ca ? { ca: readPem(files.ca, 'mqtt.tls.ca') } : {}),
    requestCert: opts.requireClientCert,
    rejectUnauthorized: opts.requireClientCert,
  })
  let current: TlsOptions | undefined
  const base = createListener(
    'mqtt-tls',
    'MQTT over TLS',
    opts,
    opts.log.child('mqtts'),
    () => (current ??= tlsOptions()),
    {
      clientCertificates: opts.requireClientCert,
    },
  )
  return {
    name: base.name,
    get port() {
      return base.port
    },
    start: () => base.start(),
    stop: () => base.stop(),
    reloadCertificate(next) {
      const before = files
      if (next) files = { cert: next.cert, key: next.key, ca: next.ca }
      let read: TlsOptions
      try {
        read = tlsOptions()
      } catch (err) {
        files = before
        throw err
      }
      const changed = JSON.stringify(read) !== JSON.stringify(current)
      current = read
      if (changed && base.listener) {
        base.listener.reloadTls(read)
        opts.log.child('mqtts').info('certificate reloaded; new connections get it')
      }
      return changed && base.listener !== undefined
    },
  }
}
