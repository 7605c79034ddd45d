// A bare MQTT client on Bun.connect speaking either version, for what well-behaved clients never
// send (pipelined, malformed, withheld acks) and to read exactly what the engine answered.
import mqttPacket, { type Packet } from 'mqtt-packet'
import { waitFor } from '../helpers/wait.ts'

export interface Raw extends AsyncDisposable {
  /** Every packet received, in order. */
  packets: Packet[]
  send(packet: Packet | Uint8Array): void
  /** Waits for the n-th (default first unread) packet of a kind and marks it read. */
  next<P extends Packet = Packet>(cmd: Packet['cmd'], timeoutMs?: number): Promise<P>
  /** Waits until the engine closed the connection. */
  closed(timeoutMs?: number): Promise<void>
  isClosed(): boolean
  end(): void
}

export async function raw(port: number, protocolVersion: 3 | 4 | 5 = 5): Promise<Raw> {
  const parser = mqttPacket.parser({ protocolVersion })
  const packets: Packet[] = []
  const read = new Set<Packet>()
  let isClosed = false
  parser.on('packet', (p: Packet) => packets.push(p))
  parser.on('error', () => {})
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      data: (_s, d) => {
        parser.parse(Buffer.from(d))
      },
      close: () => {
        isClosed = true
      },
      error: () => {
        isClosed = true
      },
    },
  })
  return {
    packets,
    send(packet) {
      socket.write(packet instanceof Uint8Array ? packet : mqttPacket.generate(packet, { protocolVersion }))
    },
    async next<P extends Packet>(cmd: Packet['cmd'], timeoutMs = 5000) {
      const p = await waitFor(
        () =>
          packets.find((x) => x.cmd === cmd && !read.has(x)) ??
          (isClosed ? Promise.reject(new Error(`closed before ${cmd}`)) : undefined),
        { timeoutMs, what: cmd },
      )
      read.add(p)
      return p as P
    },
    async closed(timeoutMs = 5000) {
      await waitFor(() => isClosed, { timeoutMs, what: 'connection closed' })
    },
    isClosed: () => isClosed,
    end: () => socket.end(),
    async [Symbol.asyncDispose]() {
      socket.end()
    },
  }
}

/** CONNECT packet with defaults filled in. */
export function connectPacket(clientId: string, extra: Partial<mqttPacket.IConnectPacket> = {}): Packet {
  return {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 5,
    clean: true,
    keepalive: 60,
    clientId,
    ...extra,
  }
}

/** Sends a SUBSCRIBE and answers its SUBACK's codes, one per filter. */
export async function subscribe(
  c: Raw,
  subscriptions: mqttPacket.ISubscription[],
  extra: { messageId?: number; properties?: mqttPacket.ISubscribePacket['properties'] } = {},
): Promise<number[]> {
  c.send({
    cmd: 'subscribe',
    messageId: extra.messageId ?? 1,
    subscriptions,
    ...(extra.properties && { properties: extra.properties }),
  })
  return (await c.next<mqttPacket.ISubackPacket>('suback')).granted as number[]
}

/** Connects and waits for CONNACK. */
export async function rawConnected(
  port: number,
  clientId: string,
  extra: Partial<mqttPacket.IConnectPacket> = {},
): Promise<Raw & { connack: mqttPacket.IConnackPacket }> {
  const version = (extra.protocolVersion ?? 5) as 3 | 4 | 5
  const c = await raw(port, version)
  c.send(connectPacket(clientId, { ...(version === 3 && { protocolId: 'MQIsdp' }), ...extra }))
  const connack = await c.next<mqttPacket.IConnackPacket>('connack')
  return Object.assign(c, { connack })
}
