// MQTT 5 §4.8.2 Shared Subscriptions: `$share/<group>/<filter>`, each message to one member of a
// group, spread round robin; a malformed share name is refused (0x8F); No Local on a shared
// subscription is a protocol error [MQTT-3.8.3-4].
import { describe, expect, it } from 'bun:test'
import type { IDisconnectPacket, IPublishPacket } from 'mqtt-packet'
import { waitFor } from '../helpers/wait.ts'
import { startEngine } from './helpers.ts'
import { rawConnected, subscribe } from './raw.ts'

describe('shared subscriptions (§4.8.2)', () => {
  it('gives each message to one member, in turn, and each group gets its copy', async () => {
    await using t = await startEngine()
    const members = await Promise.all(['m1', 'm2'].map((id) => rawConnected(t.port, id)))
    const other = await rawConnected(t.port, 'other')
    for (const m of members) {
      m.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/workers/jobs/+', qos: 1 }] })
      await m.next('suback')
    }
    other.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/audit/jobs/#', qos: 0 }] })
    await other.next('suback')
    for (let i = 0; i < 4; i++) {
      await t.engine.publish({ topic: 'jobs/x', payload: Buffer.from(String(i)), qos: 1, retain: false })
    }
    const count = (c: (typeof members)[number]) => c.packets.filter((p) => p.cmd === 'publish').length
    await waitFor(() => count(members[0]!) + count(members[1]!) === 4 && count(other) === 4)
    expect([count(members[0]!), count(members[1]!)]).toEqual([2, 2])
    const first = members[0]!.packets.find((p) => p.cmd === 'publish') as IPublishPacket
    expect(first.topic).toBe('jobs/x')
  })

  it('refuses a share name with a wildcard or no filter with 0x8F', async () => {
    await using t = await startEngine()
    const c = await rawConnected(t.port, 'c')
    expect(
      await subscribe(c, [
        { topic: '$share/g+/a', qos: 0 },
        { topic: '$share/g', qos: 0 },
        { topic: '$share/g/a', qos: 1 },
      ]),
    ).toEqual([0x8f, 0x8f, 1])
  })

  it('disconnects with 0x82 for No Local on a shared subscription [MQTT-3.8.3-4]', async () => {
    await using t = await startEngine()
    const c = await rawConnected(t.port, 'c')
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g/a', qos: 0, nl: true }] })
    expect((await c.next<IDisconnectPacket>('disconnect')).reasonCode).toBe(0x82)
  })
})
