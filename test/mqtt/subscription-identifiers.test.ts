// MQTT 5 §3.8.2.1.2 Subscription Identifier: sent with each matching message [MQTT-3.3.4-3], all
// of them on one delivery when several subscriptions match [MQTT-3.3.4-4], [MQTT-3.3.4-5].
import { describe, expect, it } from 'bun:test'
import type { IPublishPacket } from 'mqtt-packet'
import { startEngine } from './helpers.ts'
import { rawConnected } from './raw.ts'

describe('subscription identifiers (§3.8.2.1.2)', () => {
  it('sends one copy carrying every matching subscription’s identifier', async () => {
    await using t = await startEngine()
    const c = await rawConnected(t.port, 'ids')
    c.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [{ topic: 'home/+/temp', qos: 1 }],
      properties: { subscriptionIdentifier: 7 },
    })
    c.send({
      cmd: 'subscribe',
      messageId: 2,
      subscriptions: [{ topic: 'home/#', qos: 0 }],
      properties: { subscriptionIdentifier: 300 },
    })
    c.send({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'home/kitchen/temp', qos: 0 }] })
    await c.next('suback')
    await c.next('suback')
    await c.next('suback')
    await t.engine.publish({ topic: 'home/kitchen/temp', payload: Buffer.from('21'), qos: 1, retain: false })
    const p = await c.next<IPublishPacket>('publish')
    expect(p.qos).toBe(1)
    expect(p.properties?.subscriptionIdentifier).toEqual([7, 300])
    c.send({ cmd: 'pingreq' })
    await c.next('pingresp')
    expect(c.packets.filter((x) => x.cmd === 'publish')).toHaveLength(1)
  })

  it('sends the identifier with a retained message delivered at subscribe', async () => {
    await using t = await startEngine()
    await t.engine.publish({ topic: 'r', payload: Buffer.from('v'), qos: 0, retain: true })
    const c = await rawConnected(t.port, 'ids')
    c.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [{ topic: 'r', qos: 0 }],
      properties: { subscriptionIdentifier: 42 },
    })
    const p = await c.next<IPublishPacket>('publish')
    expect([p.retain, p.properties?.subscriptionIdentifier]).toEqual([true, 42])
  })
})
