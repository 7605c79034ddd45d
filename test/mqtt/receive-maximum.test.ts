// MQTT 5 §3.3.4 flow control: the client's Receive Maximum bounds what the server has in flight
// to it [MQTT-3.3.4-7], [MQTT-3.3.4-8]; the server's bounds what a client may send [MQTT-3.3.4-9].
import { describe, expect, it } from 'bun:test'
import type { IDisconnectPacket, IPublishPacket } from 'mqtt-packet'
import { waitFor } from '../helpers/wait.ts'
import { startEngine } from './helpers.ts'
import { rawConnected } from './raw.ts'

describe('receive maximum (§3.3.4)', () => {
  it('keeps at most the client’s Receive Maximum unacknowledged, and sends more as acks come', async () => {
    await using t = await startEngine()
    const c = await rawConnected(t.port, 'slow', { properties: { receiveMaximum: 2 } })
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'w/#', qos: 1 }] })
    await c.next('suback')
    for (let i = 0; i < 5; i++) {
      await t.engine.publish({ topic: 'w/x', payload: Buffer.from(String(i)), qos: 1, retain: false })
    }
    await waitFor(() => c.packets.filter((p) => p.cmd === 'publish').length === 2)
    c.send({ cmd: 'pingreq' })
    await c.next('pingresp')
    expect(c.packets.filter((p) => p.cmd === 'publish')).toHaveLength(2)
    const first = await c.next<IPublishPacket>('publish')
    c.send({ cmd: 'puback', messageId: first.messageId })
    await waitFor(() => c.packets.filter((p) => p.cmd === 'publish').length === 3)
    const payloads = c.packets
      .filter((p) => p.cmd === 'publish')
      .map((p) => String((p as IPublishPacket).payload))
    expect(payloads).toEqual(['0', '1', '2'])
  })

  it('tells the client its Receive Maximum and disconnects with 0x93 past it', async () => {
    await using t = await startEngine({ limits: { receiveMaximum: 2 } })
    const c = await rawConnected(t.port, 'fast')
    expect(c.connack.properties?.receiveMaximum).toBe(2)
    for (let id = 1; id <= 3; id++) {
      // QoS 2 without PUBREL: each stays unacknowledged until PUBCOMP
      c.send({
        cmd: 'publish',
        topic: 'z',
        payload: Buffer.from('x'),
        qos: 2,
        messageId: id,
        dup: false,
        retain: false,
      })
    }
    expect((await c.next<IDisconnectPacket>('disconnect')).reasonCode).toBe(0x93)
  })
})
