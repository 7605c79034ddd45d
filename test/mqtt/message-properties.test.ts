// MQTT 5 §3.3.2.3: user properties in order [MQTT-3.3.2-17], [MQTT-3.3.2-18], payload format
// indicator and content type passed through [MQTT-3.3.2-4], [MQTT-3.3.2-20], a payload marked
// UTF-8 that is not refused with 0x99, response topic and correlation data [MQTT-3.3.2-15],
// [MQTT-3.3.2-16], and request/response information (§3.1.2.11.6, §3.2.2.3.15).
import { describe, expect, it } from 'bun:test'
import mqtt from 'mqtt'
import type { IPubackPacket, IPublishPacket } from 'mqtt-packet'
import { nextEvent } from '../helpers/wait.ts'
import { startEngine } from './helpers.ts'
import { rawConnected } from './raw.ts'

describe('message properties (§3.3.2.3)', () => {
  it('forwards user properties in wire order, format indicator, content type, response topic, correlation data', async () => {
    await using t = await startEngine()
    const sub = await rawConnected(t.port, 'sub')
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'req', qos: 1 }] })
    await sub.next('suback')
    const pub = await mqtt.connectAsync(t.url, { protocolVersion: 5, clientId: 'pub' })
    await pub.publishAsync('req', 'héllo', {
      qos: 1,
      properties: {
        payloadFormatIndicator: true,
        contentType: 'text/plain',
        responseTopic: 'resp/1',
        correlationData: Buffer.from([1, 2, 3]),
        userProperties: { b: '2', a: ['1', '3'] },
      },
    })
    const p = await sub.next<IPublishPacket>('publish')
    expect(p.properties).toEqual({
      payloadFormatIndicator: true,
      contentType: 'text/plain',
      responseTopic: 'resp/1',
      correlationData: Buffer.from([1, 2, 3]),
      userProperties: { b: '2', a: ['1', '3'] },
    })
    const m = t.engine.retained('#')
    expect(m).toEqual([])
    await pub.endAsync()
  })

  it('keeps duplicate user property names in order on the engine side', async () => {
    await using t = await startEngine()
    const seen: Array<readonly [string, string]>[] = []
    t.engine.subscribe('up', (m) => seen.push([...(m.properties?.userProperties ?? [])]))
    const c = await rawConnected(t.port, 'c')
    c.send({
      cmd: 'publish',
      topic: 'up',
      payload: Buffer.from('x'),
      qos: 1,
      messageId: 1,
      dup: false,
      retain: false,
      properties: { userProperties: { k: ['1', '2'], j: 'x' } },
    })
    await c.next('puback')
    expect(seen).toEqual([
      [
        ['k', '1'],
        ['k', '2'],
        ['j', 'x'],
      ],
    ])
  })

  it('refuses a payload marked UTF-8 that is not with 0x99 [MQTT-3.3.2-4]', async () => {
    await using t = await startEngine()
    const got: string[] = []
    t.engine.subscribe('#', (m) => got.push(m.topic))
    const c = await rawConnected(t.port, 'c')
    c.send({
      cmd: 'publish',
      topic: 'bad',
      payload: Buffer.from([0xff, 0xfe]),
      qos: 1,
      messageId: 1,
      dup: false,
      retain: false,
      properties: { payloadFormatIndicator: true },
    })
    expect((await c.next<IPubackPacket>('puback')).reasonCode).toBe(0x99)
    expect(got).toEqual([])
  })

  it('answers Request Response Information with Response Information', async () => {
    await using t = await startEngine({ responseInformation: (c) => `responses/${c.id}` })
    const c = await rawConnected(t.port, 'asker', { properties: { requestResponseInformation: true } })
    expect(c.connack.properties?.responseInformation).toBe('responses/asker')
    const quiet = await rawConnected(t.port, 'quiet')
    expect(quiet.connack.properties?.responseInformation).toBeUndefined()
  })

  it('carries a request/response round trip between two mqtt.js clients', async () => {
    await using t = await startEngine()
    const server = await mqtt.connectAsync(t.url, { protocolVersion: 5, clientId: 'server' })
    await server.subscribeAsync('svc/req')
    server.on('message', (_topic, payload, packet) => {
      const { responseTopic, correlationData } = packet.properties ?? {}
      if (responseTopic) server.publish(responseTopic, `re:${payload}`, { properties: { correlationData } })
    })
    const client = await mqtt.connectAsync(t.wsUrl, { protocolVersion: 5, clientId: 'client' })
    await client.subscribeAsync('svc/resp/client')
    const answer = nextEvent<string>(client, 'message')
    const packetP = new Promise<IPublishPacket>((resolve) =>
      client.once('message', (_t, _p, pk) => resolve(pk)),
    )
    await client.publishAsync('svc/req', 'ping', {
      properties: { responseTopic: 'svc/resp/client', correlationData: Buffer.from('c-1') },
    })
    expect(await answer).toBe('svc/resp/client')
    expect((await packetP).properties?.correlationData).toEqual(Buffer.from('c-1'))
    await client.endAsync()
    await server.endAsync()
  })
})
