import { connect, type Socket } from 'node:net'
import mqttPacket, { type Packet } from 'mqtt-packet'
import type { Broker } from '../../src/broker/broker.ts'
import { waitFor } from '../helpers/wait.ts'

/**
 * An MQTT client on a bare socket, for packets no well-behaved client would send (malformed,
 * oversize, refused ones) and for reading exactly what the broker answered.
 */
export interface RawClient extends AsyncDisposable {
  socket: Socket
  /** Every packet received so far, in order. */
  received: Packet[]
  send(packet: Packet | Buffer): boolean
  /** The next received packet of this type (already received ones count, in order). */
  next<P extends Packet = Packet>(cmd: Packet['cmd'], timeoutMs?: number): Promise<P>
  /** Resolves when the broker closes the connection. */
  closed: Promise<void>
  isClosed(): boolean
}

export async function rawClient(port: number): Promise<RawClient> {
  const socket = connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  const parser = mqttPacket.parser({ protocolVersion: 4 })
  const received: Packet[] = []
  const waiters = new Set<() => void>()
  let consumed = 0
  let isClosed = false
  parser.on('packet', (p: Packet) => {
    received.push(p)
    for (const w of waiters) w()
  })
  socket.on('data', (b) => parser.parse(b as Buffer))
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      isClosed = true
      for (const w of waiters) w()
      resolve()
    }),
  )
  return {
    socket,
    received,
    closed,
    isClosed: () => isClosed,
    send: (packet) => socket.write(Buffer.isBuffer(packet) ? packet : mqttPacket.generate(packet)),
    next<P extends Packet>(cmd: Packet['cmd'], timeoutMs = 5000): Promise<P> {
      return new Promise<P>((resolve, reject) => {
        const check = () => {
          for (let i = consumed; i < received.length; i++) {
            if (received[i]?.cmd === cmd) {
              consumed = i + 1
              done()
              resolve(received[i] as P)
              return
            }
          }
          if (isClosed) {
            done()
            reject(new Error(`connection closed before a ${cmd}`))
          }
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`no ${cmd} within ${timeoutMs} ms`))
        }, timeoutMs)
        const done = () => {
          clearTimeout(timer)
          waiters.delete(check)
        }
        waiters.add(check)
        check()
      })
    },
    [Symbol.asyncDispose]: async () => {
      socket.destroy()
      await closed
    },
  }
}

/** CONNECT for MQTT 3.1.1 with sensible defaults. */
export function connectPacket(clientId: string, extra: Partial<mqttPacket.IConnectPacket> = {}): Packet {
  return {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    keepalive: 60,
    clientId,
    ...extra,
  }
}

/** Connects a raw client and waits for its CONNACK. */
export async function rawConnected(port: number, clientId: string): Promise<RawClient> {
  const c = await rawClient(port)
  c.send(connectPacket(clientId))
  const ack = await c.next<mqttPacket.IConnackPacket>('connack')
  if (ack.returnCode !== 0) throw new Error(`CONNACK ${ack.returnCode}`)
  return c
}

/** The broker's connected clients by id, with their subscriptions by filter. */
export function brokerClients(
  broker: Pick<Broker, 'clients' | 'subscriptionsOf'>,
): Record<string, { subscriptions: Record<string, { qos: number }> }> {
  const out: Record<string, { subscriptions: Record<string, { qos: number }> }> = {}
  for (const c of broker.clients()) {
    const subscriptions: Record<string, { qos: number }> = {}
    for (const s of broker.subscriptionsOf(c.id)) subscriptions[s.filter] = { qos: s.qos }
    out[c.id] = { subscriptions }
  }
  return out
}

/** Resolves once the client `clientId` holds a subscription `filter` (or any, without one). */
export function subscribed(
  broker: Pick<Broker, 'clients' | 'subscriptionsOf'>,
  clientId: string,
  filter?: string,
) {
  return waitFor(
    () =>
      broker.clients().some((c) => c.id === clientId) &&
      broker.subscriptionsOf(clientId).some((s) => filter === undefined || s.filter === filter),
    { what: `a subscription of ${clientId}` },
  )
}
/** Anonymous clients allowed everywhere: these tests are about the broker, not the ACL. */
export const openBroker = {
  allowAnonymous: true,
  anonymousAcl: [{ pattern: '#', access: 'readwrite' as const }],
}

/**
 * CONNECT built by hand (MQTT 3.1.1, keepalive 60), for what mqtt-packet refuses to generate,
 * such as an empty client id with CleanSession=0.
 */
export function connectBytes(clientId: string, clean: boolean): Buffer {
  const id = Buffer.from(clientId)
  const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, clean ? 0x02 : 0x00, 0, 60])
  const body = Buffer.concat([variable, Buffer.from([id.length >> 8, id.length & 0xff]), id])
  return Buffer.concat([Buffer.from([0x10, body.length]), body])
}
