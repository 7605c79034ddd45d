// MQTT 5 §3.3.2.3.3 Message Expiry Interval: not delivered once expired [MQTT-3.3.2-5], sent with
// what is left of it [MQTT-3.3.2-6].
import { describe, expect, it } from 'bun:test'
import type { IPublishPacket } from 'mqtt-packet'
import { startEngine } from './helpers.ts'
import { rawConnected } from './raw.ts'

describe('message expiry (§3.3.2.3.3)', () => {
  it('sends a queued message with the interval decremented, and drops an expired one', async () => {
    let now = 1_000_000
    await using t = await startEngine({ now: () => now })
    const sub = await rawConnected(t.port, 'away', { properties: { sessionExpiryInterval: 600 } })
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'x/#', qos: 1 }] })
    await sub.next('suback')
    sub.send({ cmd: 'disconnect', reasonCode: 0 })
    await sub.closed()
    const pub = await rawConnected(t.port, 'pub')
    pub.send({
      cmd: 'publish',
      topic: 'x/short',
      payload: Buffer.from('gone'),
      qos: 1,
      messageId: 1,
      dup: false,
      retain: false,
      properties: { messageExpiryInterval: 5 },
    })
    pub.send({
      cmd: 'publish',
      topic: 'x/long',
      payload: Buffer.from('kept'),
      qos: 1,
      messageId: 2,
      dup: false,
      retain: false,
      properties: { messageExpiryInterval: 60 },
    })
    await pub.next('puback')
    await pub.next('puback')
    now += 10_000
    const back = await rawConnected(t.port, 'away', {
      clean: false,
      properties: { sessionExpiryInterval: 600 },
    })
    const p = await back.next<IPublishPacket>('publish')
    expect([p.topic, p.properties?.messageExpiryInterval]).toEqual(['x/long', 50])
    back.send({ cmd: 'pingreq' })
    await back.next('pingresp')
    expect(back.packets.filter((x) => x.cmd === 'publish')).toHaveLength(1)
  })

  it('does not send an expired retained message to a new subscriber', async () => {
    let now = 1_000_000
    await using t = await startEngine({ now: () => now })
    await t.engine.publish({
      topic: 'r/1',
      payload: Buffer.from('old'),
      qos: 0,
      retain: true,
      expiresAt: now + 1000,
    })
    now += 2000
    const sub = await rawConnected(t.port, 's')
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'r/#', qos: 0 }] })
    await sub.next('suback')
    sub.send({ cmd: 'pingreq' })
    await sub.next('pingresp')
    expect(sub.packets.some((x) => x.cmd === 'publish')).toBe(false)
  })
})
