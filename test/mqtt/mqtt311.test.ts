// MQTT 3.1.1 (and 3.1) on the engine, with mqtt.js protocolVersion 4 and raw packets: QoS 0/1/2,
// retained, persistent sessions, wills, `$` topics and wildcards [MQTT-4.7.2-1], refused CONNECTs.
import { describe, expect, it } from 'bun:test'
import mqtt from 'mqtt'
import type { IConnackPacket, IPublishPacket } from 'mqtt-packet'
import { waitFor } from '../helpers/wait.ts'
import { startEngine } from './helpers.ts'
import { raw, rawConnected } from './raw.ts'

describe('MQTT 3.1.1', () => {
  it('delivers QoS 0, 1 and 2 at the lower of published and granted QoS [MQTT-3.8.4-6]', async () => {
    await using t = await startEngine()
    const sub = await mqtt.connectAsync(t.url, { protocolVersion: 4, clientId: 's' })
    await sub.subscribeAsync('q/#', { qos: 1 })
    const got: Array<[string, number]> = []
    sub.on('message', (topic, _p, packet) => got.push([topic, packet.qos]))
    const pub = await mqtt.connectAsync(t.url, { protocolVersion: 4, clientId: 'p' })
    for (const qos of [0, 1, 2] as const) await pub.publishAsync(`q/${qos}`, 'x', { qos })
    await waitFor(() => got.length === 3)
    expect(got).toEqual([
      ['q/0', 0],
      ['q/1', 1],
      ['q/2', 1],
    ])
    await Promise.all([sub.endAsync(), pub.endAsync()])
  })

  it('keeps a persistent session’s subscriptions and queued QoS 1 messages while it is away', async () => {
    await using t = await startEngine()
    const opts = { protocolVersion: 4 as const, clientId: 'persist', clean: false }
    const a = await mqtt.connectAsync(t.url, opts)
    await a.subscribeAsync('inbox/#', { qos: 1 })
    await a.endAsync()
    for (let i = 0; i < 3; i++)
      await t.engine.publish({ topic: 'inbox/x', payload: Buffer.from(String(i)), qos: 1, retain: false })
    const b = await raw(t.port, 4)
    b.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: false,
      keepalive: 60,
      clientId: 'persist',
    })
    expect((await b.next<IConnackPacket>('connack')).sessionPresent).toBe(true)
    const got: string[] = []
    for (let i = 0; i < 3; i++) {
      const p = await b.next<IPublishPacket>('publish')
      got.push(p.payload.toString())
      b.send({ cmd: 'puback', messageId: p.messageId })
    }
    expect(got).toEqual(['0', '1', '2'])
  })

  it('resends an unacknowledged QoS 1 message with DUP on reconnect [MQTT-4.4.0-1]', async () => {
    await using t = await startEngine()
    const a = await rawConnected(t.port, 'dup', { protocolVersion: 4, clean: false })
    a.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'd', qos: 1 }] })
    await a.next('suback')
    await t.engine.publish({ topic: 'd', payload: Buffer.from('once'), qos: 1, retain: false })
    const first = await a.next<IPublishPacket>('publish')
    expect(first.dup).toBe(false)
    a.end()
    await waitFor(() => t.engine.clients().length === 0)
    const b = await rawConnected(t.port, 'dup', { protocolVersion: 4, clean: false })
    const again = await b.next<IPublishPacket>('publish')
    expect([again.dup, again.messageId, again.payload.toString()]).toEqual([true, first.messageId, 'once'])
  })

  it('sends retained messages at subscribe with retain 1 and clears them with an empty payload [MQTT-3.3.1-6]', async () => {
    await using t = await startEngine()
    const pub = await mqtt.connectAsync(t.url, { protocolVersion: 4, clientId: 'p' })
    await pub.publishAsync('r/a', 'one', { retain: true, qos: 1 })
    await pub.publishAsync('r/b', 'two', { retain: true, qos: 1 })
    await pub.publishAsync('r/b', '', { retain: true, qos: 1 })
    expect(t.engine.retained('r/#').map((m) => m.topic)).toEqual(['r/a'])
    expect(t.store.snapshot().retained.map((m) => m.topic)).toEqual(['r/a'])
    const c = await rawConnected(t.port, 'c', { protocolVersion: 4 })
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'r/#', qos: 0 }] })
    const p = await c.next<IPublishPacket>('publish')
    expect([p.topic, p.retain]).toEqual(['r/a', true])
    await pub.endAsync()
  })

  it('publishes the will when the connection drops, not after DISCONNECT [MQTT-3.1.2-8], [MQTT-3.1.2-10]', async () => {
    await using t = await startEngine()
    const got: string[] = []
    t.engine.subscribe('will/#', (m) => got.push(m.topic))
    const will = { topic: 'will/a', payload: Buffer.from('x'), qos: 1 as const, retain: false }
    const a = await rawConnected(t.port, 'a', { protocolVersion: 4, will })
    const b = await rawConnected(t.port, 'b', { protocolVersion: 4, will: { ...will, topic: 'will/b' } })
    b.send({ cmd: 'disconnect' })
    await b.closed()
    a.end()
    await waitFor(() => got.length === 1)
    expect(got).toEqual(['will/a'])
  })

  it('does not match `$` topics with a leading wildcard [MQTT-4.7.2-1]', async () => {
    await using t = await startEngine()
    const all: string[] = []
    const sys: string[] = []
    t.engine.subscribe('#', (m) => all.push(m.topic))
    t.engine.subscribe('+/uptime', (m) => all.push(m.topic))
    t.engine.subscribe('$SYS/#', (m) => sys.push(m.topic))
    await t.engine.publish({ topic: '$SYS/uptime', payload: Buffer.from('1'), qos: 0, retain: false })
    await t.engine.publish({ topic: 'a/b', payload: Buffer.from('1'), qos: 0, retain: false })
    expect([all, sys]).toEqual([['a/b'], ['$SYS/uptime']])
  })

  it('accepts MQTT 3.1 (MQIsdp) and refuses an unknown protocol level with return code 1', async () => {
    await using t = await startEngine()
    const v3 = await rawConnected(t.port, 'old-device', { protocolVersion: 3 })
    expect(v3.connack.returnCode).toBe(0)
    const bad = await raw(t.port, 4)
    // CONNECT "MQTT" level 6
    bad.send(Uint8Array.from([0x10, 13, 0, 4, 0x4d, 0x51, 0x54, 0x54, 6, 2, 0, 60, 0, 1, 0x78]))
    expect((await bad.next<IConnackPacket>('connack')).returnCode).toBe(1)
    await bad.closed()
  })
})
