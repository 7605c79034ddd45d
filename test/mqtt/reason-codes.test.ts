// MQTT 5 reason codes and reason strings: PUBACK (§3.4.2.1), SUBACK (§3.9.3), UNSUBACK
// (§3.11.3), and server DISCONNECT (§3.14.2.1) from engine.disconnect and at shutdown.
import { describe, expect, it } from 'bun:test'
import type { IDisconnectPacket, IPubackPacket, IUnsubackPacket } from 'mqtt-packet'
import { startEngine } from './helpers.ts'
import { rawConnected, subscribe } from './raw.ts'

describe('reason codes (§2.4)', () => {
  it('PUBACK: 0x10 no matching subscribers, the hook’s refusal code, 0 when delivered', async () => {
    await using t = await startEngine({
      hooks: { authorizePublish: (_c, m) => (m.topic.startsWith('secret') ? 0x87 : undefined) },
    })
    const c = await rawConnected(t.port, 'c')
    c.send({
      cmd: 'publish',
      topic: 'nobody',
      payload: Buffer.from('x'),
      qos: 1,
      messageId: 1,
      dup: false,
      retain: false,
    })
    expect((await c.next<IPubackPacket>('puback')).reasonCode).toBe(0x10)
    c.send({
      cmd: 'publish',
      topic: 'secret/x',
      payload: Buffer.from('x'),
      qos: 1,
      messageId: 2,
      dup: false,
      retain: false,
    })
    expect((await c.next<IPubackPacket>('puback')).reasonCode).toBe(0x87)
    c.send({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'nobody', qos: 0 }] })
    await c.next('suback')
    c.send({
      cmd: 'publish',
      topic: 'nobody',
      payload: Buffer.from('x'),
      qos: 1,
      messageId: 4,
      dup: false,
      retain: false,
    })
    expect((await c.next<IPubackPacket>('puback')).reasonCode ?? 0).toBe(0)
  })

  it('SUBACK: the granted QoS, 0x8F invalid filter, the hook’s code; UNSUBACK 0x11 for no subscription', async () => {
    await using t = await startEngine({
      hooks: {
        authorizeSubscribe: (_c, s) =>
          s.filter === 'denied' ? 0x87 : { ...s, qos: Math.min(s.qos, 1) as 0 | 1 },
      },
    })
    const c = await rawConnected(t.port, 'c')
    expect(
      await subscribe(c, [
        { topic: 'ok', qos: 2 },
        { topic: 'a/#/b', qos: 0 },
        { topic: 'denied', qos: 0 },
      ]),
    ).toEqual([1, 0x8f, 0x87])
    c.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['ok', 'never'] })
    expect((await c.next<IUnsubackPacket>('unsuback')).granted).toEqual([0, 0x11])
  })

  it('DISCONNECT from the server carries the reason code and a reason string', async () => {
    await using t = await startEngine()
    const c = await rawConnected(t.port, 'kick-me')
    expect(t.engine.disconnect('kick-me', 0x98, 'administrative action')).toBe(true)
    const d = await c.next<IDisconnectPacket>('disconnect')
    expect([d.reasonCode, d.properties?.reasonString]).toEqual([0x98, 'administrative action'])
    expect(t.engine.disconnect('nobody', 0x98)).toBe(false)
  })

  it('says 0x8B server shutting down on stop', async () => {
    const t = await startEngine()
    const c = await rawConnected(t.port, 'c')
    await t[Symbol.asyncDispose]()
    expect((await c.next<IDisconnectPacket>('disconnect')).reasonCode).toBe(0x8b)
  })
})
