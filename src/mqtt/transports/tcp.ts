// MQTT over TCP and TLS on Bun.listen. Every socket feeds the engine's one input path; the
// engine's output buffer is written once per read callback and the rest waits for `drain`.
import type { Socket, TCPSocketListener } from 'bun'
import type { Connection, Wire } from '../connection.ts'
import type { MqttEngine } from '../engine.ts'

export interface TlsOptions {
  cert: string | Buffer
  key: string | Buffer
  /** CA(s) that sign client certificates, when clients present one. */
  ca?: string | Buffer | Array<string | Buffer>
  /** Ask clients for a certificate; its verified subject CN becomes `Client.certificateCommonName`. */
  requestCert?: boolean
  /** Refuse clients whose certificate does not verify (only with `requestCert`). */
  rejectUnauthorized?: boolean
}

export interface TcpListenOptions {
  /** Default 127.0.0.1 … the host decides; 0.0.0.0 for every interface. */
  hostname?: string
  /** 0 picks a free port. */
  port: number
  tls?: TlsOptions
}

export interface MqttListener {
  readonly port: number
  readonly hostname: string
  /** New connections get this certificate; open ones keep theirs. */
  reloadTls(tls: TlsOptions): void
  /** Stops listening; `closeConnections` also closes the open sockets. */
  stop(closeConnections?: boolean): void
}

/** The engine's connection is the socket's data: no object more per idle socket. */
type SocketData = Connection | undefined

/** A class rather than closures: one small object per connection. */
class TcpWire implements Wire {
  constructor(private readonly socket: Socket<SocketData>) {}
  write(data: Uint8Array): number {
    return this.socket.write(data)
  }
  writeHead(data: Uint8Array, length: number): number {
    return this.socket.write(data, 0, length)
  }
  buffered(): number {
    return 0
  }
  end(): void {
    this.socket.end()
  }
  pause(): void {
    this.socket.pause()
  }
  resume(): void {
    this.socket.resume()
  }
}

function commonName(socket: Socket<SocketData>): string | undefined {
  const peer = socket as unknown as {
    authorized?: boolean
    getPeerCertificate?: () => { subject?: Record<string, string | string[]> } | null
  }
  if (peer.authorized !== true || typeof peer.getPeerCertificate !== 'function') return undefined
  const cn = peer.getPeerCertificate()?.subject?.CN
  return Array.isArray(cn) ? cn[0] : cn
}

/** Listens for MQTT over TCP, or TLS when `tls` is given. */
export function listenTcp(engine: MqttEngine, opts: TcpListenOptions): MqttListener {
  const hostname = opts.hostname ?? '127.0.0.1'
  const secure = opts.tls !== undefined
  let current = opts.tls
  const listen = (port: number, tls: TlsOptions | undefined): TCPSocketListener<SocketData> =>
    Bun.listen<SocketData>({
      hostname,
      port,
      ...(tls && { tls }),
      socket: {
        open(socket) {
          // TLS: the connection starts once the handshake told who the peer is.
          socket.data = secure
            ? undefined
            : engine.open(new TcpWire(socket), { transport: 'tcp', remoteAddress: socket.remoteAddress })
        },
        handshake(socket, success, authorizationError) {
          if (!success || (current?.rejectUnauthorized && authorizationError)) {
            socket.end()
            return
          }
          socket.data = engine.open(new TcpWire(socket), {
            transport: 'tls',
            remoteAddress: socket.remoteAddress,
            certificateCommonName: commonName(socket),
          })
        },
        data(socket, data) {
          socket.data?.onData(data)
        },
        drain(socket) {
          socket.data?.onDrain()
        },
        close(socket) {
          socket.data?.onClose()
          socket.data = undefined
        },
        error(socket) {
          // A socket error concerns that peer only.
          socket.data?.onClose()
          socket.data = undefined
        },
      },
    })
  let listener = listen(opts.port, opts.tls)
  const port = listener.port
  return {
    port,
    hostname,
    reloadTls(tls) {
      if (!secure) throw new Error('not a TLS listener')
      // Open connections stay on the old listener's sockets; the port gets the new certificate.
      listener.stop(false)
      current = tls
      listener = listen(port, tls)
    },
    stop(closeConnections = false) {
      listener.stop(closeConnections)
    },
  }
}
