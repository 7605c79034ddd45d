import type { Duplex } from 'node:stream'
import type { Aedes, Client } from 'aedes'
import type { Logger } from '../log.ts'
import { connectError } from './hooks.ts'

/** A parsed MQTT packet as mqtt-packet emits it (fields depend on `cmd`). */
export interface WirePacket {
  cmd: string
  /** Remaining length from the fixed header. */
  length: number
  topic?: string
  qos?: number
  clientId?: string
  clean?: boolean
  protocolVersion?: number
  username?: string
  will?: { topic: string }
  subscriptions?: { topic: string; qos: number }[]
  unsubscriptions?: string[]
}

/**
 * What a plugin sees of each connection before Aedes does. Aedes has no hook on a new socket
 * nor on an UNSUBSCRIBE, and validates filters before `authorizeSubscribe` (disconnecting instead
 * of answering SUBACK 0x80), so limits, dotted topics and conformance look at packets here.
 */
export interface ClientTap {
  /** A new connection, before any byte of it is parsed. */
  connection?(client: TappedClient, conn: Duplex): void
  /** Every packet of that connection, in order, before Aedes handles it; may change it in place. */
  packet?(client: TappedClient, packet: WirePacket): void
}

/** Aedes' client with the internals the taps rely on (aedes 1.2 `lib/client.js`). */
export type TappedClient = Client & {
  conn: Duplex
  _parser: ParserInternals
  _nextBatch(err?: Error): void
  /** Stops Aedes' `stream.finished` watch of the socket. */
  _eos(): void
  subscriptions: Record<string, { qos: number }>
}

export interface ParserInternals {
  packet: { length: number }
  error: Error | null
  _parseLength(): boolean
  _emitError(err: Error): void
  parse(buf: Buffer): number
  prependListener(event: 'packet', fn: (packet: WirePacket) => void): void
}

interface Registry {
  taps: ClientTap[]
  /** The taps with each hook, kept apart so a connection or packet costs no allocation. */
  onConnection: ClientTap[]
  onPacket: ClientTap[]
  original: Aedes['handle']
}

const registries = new WeakMap<Aedes, Registry>()

/**
 * Adds `tap` to every connection `aedes.handle` receives from now on; taps run in the order they
 * were added (plugin order). Returns the function that removes it.
 */
export function addClientTap(aedes: Aedes, tap: ClientTap, log: Logger): () => void {
  let reg = registries.get(aedes)
  if (!reg) {
    const r: Registry = { taps: [], onConnection: [], onPacket: [], original: aedes.handle }
    reg = r
    registries.set(aedes, r)
    // One listener for every connection: the parser it is called on knows its client.
    const tapPacket = function (this: { client: TappedClient }, packet: WirePacket) {
      try {
        for (const t of r.onPacket) t.packet?.(this.client, packet)
      } catch (err) {
        // A throw here would unwind through the parser into the socket's 'readable' handler.
        log.error('client tap failed', { clientId: this.client.id, err })
        refusePacket(packet)
      }
    }
    aedes.handle = (conn, req) => {
      const client = r.original(conn, req) as TappedClient
      // Aedes watches each socket with `stream.finished`: eight closures kept per connection. A
      // socket always ends with 'close' (after 'end', an error or destroy), and one listener
      // shared by every connection makes the same call.
      client._eos()
      client._eos = noop
      client.conn.on('close', closeClient)
      for (const t of r.onConnection) t.connection?.(client, client.conn)
      // Prepended so the taps see each packet before Aedes' own listener (enqueue) does.
      client._parser.prependListener('packet', tapPacket)
      return client
    }
  }
  const registry = reg
  const update = (taps: ClientTap[]) => {
    registry.taps = taps
    registry.onConnection = taps.filter((t) => t.connection)
    registry.onPacket = taps.filter((t) => t.packet)
  }
  update([...registry.taps, tap])
  return () => {
    update(registry.taps.filter((t) => t !== tap))
    if (registry.taps.length === 0) {
      aedes.handle = registry.original
      registries.delete(aedes)
    }
  }
}

function closeClient(this: { client?: Client }) {
  this.client?.close()
}

function noop() {}

/** Makes Aedes close the connection instead of handling `packet` (an unknown `cmd` does that). */
export function refusePacket(packet: WirePacket): void {
  packet.cmd = 'refused'
}

/**
 * Answers a CONNECT with a refusing CONNACK and closes the connection, then throws so Aedes stops.
 * For `preConnect`: Aedes closes on a preConnect error without any CONNACK.
 */
export async function refuseConnect(client: TappedClient, returnCode: number, why: string): Promise<never> {
  const conn = client.conn
  if (!conn.destroyed && conn.writable) {
    conn.write(Buffer.from([0x20, 0x02, 0x00, returnCode]))
    // Aedes destroys the socket when preConnect fails: let the CONNACK leave first, but not forever.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000)
      conn.end(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
  throw connectError(returnCode, why)
}

/** Bytes of a packet's fixed header for this remaining length (MQTT 3.1.1 section 2.2.3). */
export function headerBytes(remaining: number): number {
  return remaining < 128 ? 2 : remaining < 16_384 ? 3 : remaining < 2_097_152 ? 4 : 5
}
