// MQTT 5 §3.1.2.11.4 / §3.2.2.3.6 Maximum Packet Size, both ways: a message too large for a client
// is not sent to it [MQTT-3.1.2-24]; a packet larger than the server's is refused with 0x95.
import { describe, expect, it } from 'bun:test'
import type { IDisconnectPacket, IPublishPacket } from 'mqtt-packet'
import { startEngine } from './helpers.ts'
import { rawConnected } from './raw.ts'

describe('maximum packet size (§3.1.2.11.4)', () => {
  it('skips a message larger than the client’s maximum and delivers the next one', async () => {
    await using t = await startEngine()
    const c = await rawConnected(t.port, 'small', { properties: { maximumPacketSize: 100 } })
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'm', qos: 1 }] })
    await c.next('suback')
    await t.engine.publish({ topic: 'm', payload: Buffer.alloc(200, 1), qos: 1, retain: false })
    await t.engine.publish({ topic: 'm', payload: Buffer.from('fits'), qos: 1, retain: false })
    const p = await c.next<IPublishPacket>('publish')
    expect(p.payload.toString()).toBe('fits')
    expect(t.engine.stats().droppedMessages).toBe(1)
  })

  it('announces its maximum and disconnects with 0x95 for a larger packet', async () => {
    await using t = await startEngine({ limits: { maxPacketSize: 1024 } })
    const c = await rawConnected(t.port, 'big')
    expect(c.connack.properties?.maximumPacketSize).toBe(1024)
    c.send({ cmd: 'publish', topic: 'm', payload: Buffer.alloc(2000), qos: 0, dup: false, retain: false })
    expect((await c.next<IDisconnectPacket>('disconnect')).reasonCode).toBe(0x95)
    await c.closed()
  })
})
