// MQTT 5 §3.8.3.1 Subscription Options: No Local [MQTT-3.8.3-3], Retain As Published
// [MQTT-3.3.1-12], [MQTT-3.3.1-13], Retain Handling 0/1/2 [MQTT-3.3.1-9] … [MQTT-3.3.1-11].
import { describe, expect, it } from 'bun:test'
import type { IPublishPacket, ISubackPacket } from 'mqtt-packet'
import { startEngine } from './helpers.ts'
import { type Raw, rawConnected, subscribe } from './raw.ts'

const publishes = async (c: Raw): Promise<IPublishPacket[]> => {
  c.send({ cmd: 'pingreq' })
  await c.next('pingresp')
  return c.packets.filter((p) => p.cmd === 'publish') as IPublishPacket[]
}

describe('subscription options (§3.8.3.1)', () => {
  it('No Local: a client does not get its own messages back', async () => {
    await using t = await startEngine()
    const c = await rawConnected(t.port, 'me')
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'chat', qos: 0, nl: true }] })
    await c.next('suback')
    c.send({ cmd: 'publish', topic: 'chat', payload: Buffer.from('mine'), qos: 0, dup: false, retain: false })
    await t.engine.publish({ topic: 'chat', payload: Buffer.from('theirs'), qos: 0, retain: false })
    await c.next('publish')
    expect((await publishes(c)).map((p) => p.payload.toString())).toEqual(['theirs'])
  })

  it('Retain As Published keeps the retain flag on live delivery; without it the flag is 0', async () => {
    await using t = await startEngine()
    const c = await rawConnected(t.port, 'rap')
    await subscribe(c, [
      { topic: 'a', qos: 0, rap: true },
      { topic: 'b', qos: 0 },
    ])
    await t.engine.publish({ topic: 'a', payload: Buffer.from('1'), qos: 0, retain: true })
    await t.engine.publish({ topic: 'b', payload: Buffer.from('2'), qos: 0, retain: true })
    await c.next('publish')
    await c.next('publish')
    expect((await publishes(c)).map((p) => [p.topic, p.retain])).toEqual([
      ['a', true],
      ['b', false],
    ])
  })

  it('Retain Handling: 0 sends retained at every subscribe, 1 only for a new one, 2 never', async () => {
    await using t = await startEngine()
    await t.engine.publish({ topic: 'r', payload: Buffer.from('kept'), qos: 0, retain: true })
    const c = await rawConnected(t.port, 'rh')
    for (const rh of [0, 0, 1, 1, 2]) {
      const filter = rh === 0 ? 'r' : rh === 1 ? '+' : '#'
      c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 0, rh }] })
      const ack = await c.next<ISubackPacket>('suback')
      expect(ack.granted).toEqual([0])
    }
    const got = await publishes(c)
    // two for rh 0 (each subscribe), one for the first rh 1, none for rh 2
    expect(got.map((p) => [p.topic, p.retain])).toEqual([
      ['r', true],
      ['r', true],
      ['r', true],
    ])
  })
})
