import { describe, expect, it } from 'bun:test'
import type { IConnackPacket, IPublishPacket, ISubackPacket } from 'mqtt-packet'
import { startTestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'
import { connect, nextMessage } from './mqtt-fixture.ts'
import { connectBytes, connectPacket, openBroker, rawClient, rawConnected } from './raw-mqtt.ts'

const anonymous = { mqtt: { ...openBroker, maxTopicLevels: 4 } }

describe('MQTT conformance fixes', () => {
  it('answers CONNACK 0x02 to an empty client id with clean session 0 [MQTT-3.1.3-8]', async () => {
    await using t = await startTestHub(anonymous)
    await using raw = await rawClient(t.mqttPort)
    raw.send(connectBytes('', false))
    const ack = await raw.next<IConnackPacket>('connack')
    expect(ack.returnCode).toBe(2)
    // [MQTT-3.2.2-5] the server closes the connection after a refusing CONNACK.
    await raw.closed
  })

  it('accepts an empty client id with clean session 1 and assigns one [MQTT-3.1.3-6]', async () => {
    await using t = await startTestHub(anonymous)
    await using raw = await rawClient(t.mqttPort)
    raw.send(connectPacket('', { clean: true }))
    expect((await raw.next<IConnackPacket>('connack')).returnCode).toBe(0)
  })

  it('delivers through a wildcard subscription at no more than its granted QoS [MQTT-3.8.4-6]', async () => {
    await using t = await startTestHub(anonymous)
    await using sub = await connect(t.mqttUrl, { clientId: 'wild' })
    await sub.subscribeAsync('home/+/temp', { qos: 1 })
    await using pub = await connect(t.mqttUrl, { clientId: 'pub' })
    const got = nextMessage(sub, 'home/kitchen/temp')
    await pub.publishAsync('home/kitchen/temp', '21', { qos: 2 })
    expect(await got).toEqual({ payload: '21', retain: false, qos: 1 })
  })

  it('delivers a retained message through a wildcard at the granted QoS 0 [MQTT-3.8.4-6]', async () => {
    await using t = await startTestHub(anonymous)
    await using pub = await connect(t.mqttUrl, { clientId: 'pub' })
    await pub.publishAsync('state/lamp', 'on', { qos: 1, retain: true })
    await using sub = await connect(t.mqttUrl, { clientId: 'late' })
    const got = nextMessage(sub, 'state/lamp')
    await sub.subscribeAsync('state/#', { qos: 0 })
    expect(await got).toEqual({ payload: 'on', retain: true, qos: 0 })
  })

  it('closes the connection of a client that publishes to a topic with U+0000 [MQTT-1.5.3-2]', async () => {
    await using t = await startTestHub(anonymous)
    await using watcher = await connect(t.mqttUrl, { clientId: 'watcher' })
    await watcher.subscribeAsync('#')
    const seen: string[] = []
    watcher.on('message', (topic) => seen.push(topic))
    await using raw = await rawConnected(t.mqttPort, 'nul')
    raw.send({
      cmd: 'publish',
      topic: 'a/\u0000b',
      payload: 'x',
      qos: 1,
      messageId: 1,
      retain: false,
      dup: false,
    })
    await raw.closed
    expect(raw.received.map((p) => p.cmd)).toEqual(['connack'])
    await watcher.publishAsync('after', 'x')
    await waitFor(() => seen.includes('after'))
    expect(seen).toEqual(['after'])
  })

  it('closes the connection of a client that publishes to a wildcard topic [MQTT-3.3.2-2]', async () => {
    await using t = await startTestHub(anonymous)
    for (const topic of ['a/+', 'a/#']) {
      await using raw = await rawConnected(t.mqttPort, 'wild-pub')
      raw.send({ cmd: 'publish', topic, payload: 'x', qos: 0, retain: false, dup: false })
      await raw.closed
    }
  })

  it('closes the connection of a client that publishes deeper than mqtt.maxTopicLevels', async () => {
    await using t = await startTestHub(anonymous)
    await using ok = await rawConnected(t.mqttPort, 'four')
    ok.send({
      cmd: 'publish',
      topic: 'a/b/c/d',
      payload: 'x',
      qos: 1,
      messageId: 7,
      retain: false,
      dup: false,
    })
    expect((await ok.next('puback')).cmd).toBe('puback')
    await using deep = await rawConnected(t.mqttPort, 'five')
    deep.send({
      cmd: 'publish',
      topic: 'a/b/c/d/e',
      payload: 'x',
      qos: 1,
      messageId: 7,
      retain: false,
      dup: false,
    })
    await deep.closed
    expect(deep.received.map((p) => p.cmd)).toEqual(['connack'])
  })

  it('answers SUBACK 0x80 to each malformed filter and grants the valid ones in the same SUBSCRIBE', async () => {
    await using t = await startTestHub(anonymous)
    await using raw = await rawConnected(t.mqttPort, 'filters')
    const filters = ['ok/+/x', 'a/b#', 'a+', '#/a', 'nul/\u0000', 'a/b/c/d/e', 'ok/#', 'a/b#']
    raw.send({
      cmd: 'subscribe',
      messageId: 3,
      subscriptions: filters.map((topic) => ({ topic, qos: 1 as const })),
    })
    const ack = await raw.next<ISubackPacket>('suback')
    expect(ack.granted).toEqual([1, 128, 128, 128, 128, 128, 1, 128])
    // [MQTT-4.7.1-2, MQTT-4.7.1-3] refusing a filter leaves the connection usable.
    raw.send({ cmd: 'publish', topic: 'ok/1/x', payload: 'still here', qos: 0, retain: false, dup: false })
    const msg = await raw.next<IPublishPacket>('publish')
    expect([msg.topic, String(msg.payload)]).toEqual(['ok/1/x', 'still here'])
    expect(raw.isClosed()).toBe(false)
  })

  it('closes a CONNECT whose will topic has a wildcard, without CONNACK [MQTT-3.1.2-14]', async () => {
    await using t = await startTestHub(anonymous)
    await using raw = await rawClient(t.mqttPort)
    raw.send(
      connectPacket('bad-will', { will: { topic: 'a/#', payload: Buffer.from('x'), qos: 0, retain: false } }),
    )
    await raw.closed
    expect(raw.received).toEqual([])
  })
})
