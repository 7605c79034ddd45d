// MQTT 5 §3.8.2.1.2 Subscription Identifier: sent with each matching message [MQTT-3.3.4-3], all
// of them on one delivery when several subscriptions match [MQTT-3.3.4-4], [MQTT-3.3.4-5].
import { describe, expect, it } from 'bun:test'
import type { IPublishPacket } from 'mqtt-packet'
import { startEngine } from './helpers.ts'
import { rawConnected, subscribe } from './raw.ts'

describe('subscription identifiers (§3.8.2.1.2)', () => {
  it('sends one copy carrying every matching subscription’s identifier', async () => {
    await using t = await startEngine()
    const c = await rawConnected(t.port, 'ids')
    await subscribe(c, [{ topic: 'home/+/temp', qos: 1 }], { properties: { subscriptionIdentifier: 7 } })
    await subscribe(c, [{ topic: 'home/#', qos: 0 }], {
      messageId: 2,
      properties: { subscriptionIdentifier: 300 },
    })
    await subscribe(c, [{ topic: 'home/kitchen/temp', qos: 0 }], { messageId: 3 })
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
    await subscribe(c, [{ topic: 'r', qos: 0 }], { properties: { subscriptionIdentifier: 42 } })
    const p = await c.next<IPublishPacket>('publish')
    expect([p.retain, p.properties?.subscriptionIdentifier]).toEqual([true, 42])
  })
})
