// Robustness of the engine against clients that pipeline, idle, lie or never read: packets after
// CONNECT wait for it (§3.1.4); sockets without CONNECT time out and are capped per address;
// malformed fields close the connection (v5 with DISCONNECT first); a slow reader cannot grow the
// server's memory; a failing hook costs only its client.
import { describe, expect, it } from 'bun:test'
import { connect as netConnect } from 'node:net'
import mqttPacket, {
  type IConnackPacket,
  type IDisconnectPacket,
  type IPublishPacket,
  type ISubackPacket,
  type Packet,
} from 'mqtt-packet'
import { simulatedLatency, waitFor } from '../helpers/wait.ts'
import { startEngine } from './helpers.ts'
import { connectPacket, raw, rawConnected, subscribe } from './raw.ts'

const gen = (p: Packet, v: 4 | 5 = 5) => new Uint8Array(mqttPacket.generate(p, { protocolVersion: v }))

describe('robustness', () => {
  it('over WebSocket, handles a QoS 1 PUBLISH and a SUBSCRIBE sent before CONNACK once an async authenticate accepted', async () => {
    await using t = await startEngine({
      hooks: {
        authenticate: async (_c, username) => {
          await simulatedLatency(30)
          return username ?? ''
        },
      },
    })
    const got: string[] = []
    t.engine.subscribe('dev/#', (m) => got.push(`${m.topic}=${m.payload}`))
    const ws = new WebSocket(t.wsUrl, 'mqtt')
    ws.binaryType = 'arraybuffer'
    const parser = mqttPacket.parser({ protocolVersion: 4 })
    const packets: Packet[] = []
    parser.on('packet', (p: Packet) => packets.push(p))
    ws.onmessage = (e) => parser.parse(Buffer.from(e.data as ArrayBuffer))
    await new Promise((resolve) => {
      ws.onopen = resolve
    })
    ws.send(gen(connectPacket('dev-1', { protocolVersion: 4, username: 'u' }), 4))
    ws.send(gen({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'dev/1/in', qos: 1 }] }, 4))
    ws.send(
      gen(
        {
          cmd: 'publish',
          topic: 'dev/1/out',
          payload: Buffer.from('early'),
          qos: 1,
          messageId: 2,
          dup: false,
          retain: false,
        },
        4,
      ),
    )
    ws.send(
      gen(
        {
          cmd: 'publish',
          topic: 'dev/1/in',
          payload: Buffer.from('own'),
          qos: 1,
          messageId: 3,
          dup: false,
          retain: false,
        },
        4,
      ),
    )
    await waitFor(
      () =>
        packets.filter((p) => p.cmd === 'puback').length === 2 && packets.some((p) => p.cmd === 'publish'),
    )
    expect(packets.map((p) => p.cmd).slice(0, 2)).toEqual(['connack', 'suback'])
    expect((packets[1] as ISubackPacket).granted).toEqual([1])
    expect(got).toEqual(['dev/1/out=early', 'dev/1/in=own'])
    expect((packets.find((p) => p.cmd === 'publish') as IPublishPacket).payload.toString()).toBe('own')
    ws.close()
  })

  it('closes a socket that sends no CONNECT within the connect timeout', async () => {
    await using t = await startEngine({ limits: { connectTimeoutMs: 150 } })
    const idle = await raw(t.port)
    await idle.closed(5000)
    expect(t.engine.stats().sockets).toBe(0)
  })

  it('caps sockets not yet authenticated per address, apart from maxConnections', async () => {
    await using t = await startEngine({ limits: { maxPendingConnectionsPerAddress: 3, maxConnections: 1 } })
    const idle = await Promise.all([0, 1].map(() => raw(t.port)))
    // two idle sockets do not use up maxConnections 1
    const ok = await rawConnected(t.port, 'device')
    expect(ok.connack.reasonCode).toBe(0)
    const third = await raw(t.port)
    const refused = await raw(t.port)
    await refused.closed()
    expect(t.engine.stats().refusedConnections).toBe(1)
    third.end()
    await waitFor(() => t.engine.stats().sockets === 3)
    const again = await raw(t.port)
    again.send(connectPacket('second'))
    // maxConnections 1 is taken by `device`: 0x97
    expect((await again.next<IConnackPacket>('connack')).reasonCode).toBe(0x97)
    for (const s of idle) s.end()
  })

  it('answers SUBACK with one code per filter, duplicates included [MQTT-3.9.3-1]', async () => {
    await using t = await startEngine()
    const c = await rawConnected(t.port, 'c')
    expect(
      await subscribe(c, [
        { topic: 'a', qos: 0 },
        { topic: 'a', qos: 1 },
        { topic: 'b', qos: 2 },
      ]),
    ).toEqual([0, 1, 2])
    expect(t.engine.stats().subscriptions).toBe(2)
  })

  it('closes on will QoS 3: v5 with CONNACK 0x81, 3.1.1 without an answer [MQTT-3.1.2-12]', async () => {
    await using t = await startEngine()
    for (const v of [5, 4] as const) {
      const bytes = Buffer.from(
        gen(
          connectPacket(`w${v}`, {
            protocolVersion: v,
            will: { topic: 'w', payload: Buffer.from('x'), qos: 1, retain: false },
          }),
          v,
        ),
      )
      const flagsAt = 2 + 2 + 4 + 1
      bytes[flagsAt] = bytes[flagsAt]! | 0x18
      const c = await raw(t.port, v)
      c.send(bytes)
      await c.closed()
      expect(c.packets.map((p) => [p.cmd, (p as IConnackPacket).reasonCode])).toEqual(
        v === 5 ? [['connack', 0x81]] : [],
      )
    }
  })

  it('closes on a client id or topic that is not UTF-8 [MQTT-1.5.4-1] (3.1.1 [MQTT-1.5.3-1])', async () => {
    await using t = await startEngine()
    const bytes = Buffer.from(gen(connectPacket('ab', { protocolVersion: 4 }), 4))
    bytes[bytes.length - 1] = 0xff
    const bad = await raw(t.port, 4)
    bad.send(bytes)
    await bad.closed()
    expect(bad.packets).toEqual([])
    const c = await rawConnected(t.port, 'c')
    // PUBLISH QoS 0, topic "a\xff", no properties
    c.send(Uint8Array.from([0x30, 6, 0, 2, 0x61, 0xff, 0, 0x78]))
    expect((await c.next<IDisconnectPacket>('disconnect')).reasonCode).toBe(0x81)
  })

  it('closes on packet id 0 in a QoS 1 PUBLISH, a SUBSCRIBE or an UNSUBSCRIBE [MQTT-2.2.1-3]', async () => {
    await using t = await startEngine()
    const cases = [
      // PUBLISH QoS 1 to "a", packet id 0, no properties
      Uint8Array.from([0x32, 6, 0, 1, 0x61, 0, 0, 0]),
      // SUBSCRIBE packet id 0, no properties, "a" QoS 0
      Uint8Array.from([0x82, 7, 0, 0, 0, 0, 1, 0x61, 0]),
      // UNSUBSCRIBE packet id 0, no properties, "a"
      Uint8Array.from([0xa2, 6, 0, 0, 0, 0, 1, 0x61]),
    ]
    for (const bytes of cases) {
      const c = await rawConnected(t.port, 'c')
      c.send(bytes)
      expect((await c.next<IDisconnectPacket>('disconnect')).reasonCode).toBe(0x82)
      await c.closed()
    }
    const v4 = await rawConnected(t.port, 'c', { protocolVersion: 4 })
    v4.send(Uint8Array.from([0x32, 5, 0, 1, 0x61, 0, 0]))
    await v4.closed()
  })

  it('drops QoS 0 for a subscriber that reads nothing, so its output stays bounded', async () => {
    await using t = await startEngine({ limits: { maxOutgoingBytes: 256 * 1024 } })
    const stuck = netConnect(t.port, '127.0.0.1')
    await new Promise((resolve) => stuck.once('connect', resolve))
    stuck.write(gen(connectPacket('stuck', { protocolVersion: 4 }), 4))
    stuck.write(gen({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'flood', qos: 0 }] }, 4))
    await waitFor(() => t.engine.stats().subscriptions === 1)
    stuck.pause()
    const payload = Buffer.alloc(64 * 1024, 7)
    for (let i = 0; i < 600 && t.engine.stats().droppedMessages === 0; i++) {
      await t.engine.publish({ topic: 'flood', payload, qos: 0, retain: false })
    }
    expect(t.engine.stats().droppedMessages).toBeGreaterThan(0)
    const other = await rawConnected(t.port, 'other')
    other.send({ cmd: 'pingreq' })
    await other.next('pingresp')
    stuck.destroy()
  })

  it('disconnects only the client whose hook threw (0x83), logs it, and serves the others', async () => {
    await using t = await startEngine({
      hooks: {
        authorizePublish: (client) => {
          if (client?.id === 'bad') throw new TypeError('policy bug')
          return undefined
        },
      },
    })
    const good = await rawConnected(t.port, 'good')
    good.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'x', qos: 0 }] })
    await good.next('suback')
    const bad = await rawConnected(t.port, 'bad')
    bad.send({ cmd: 'publish', topic: 'x', payload: Buffer.from('boom'), qos: 0, dup: false, retain: false })
    expect((await bad.next<IDisconnectPacket>('disconnect')).reasonCode).toBe(0x83)
    expect(t.errors).toEqual(['hook authorizePublish threw'])
    await t.engine.publish({ topic: 'x', payload: Buffer.from('fine'), qos: 0, retain: false })
    expect((await good.next<IPublishPacket>('publish')).payload.toString()).toBe('fine')
  })
})
