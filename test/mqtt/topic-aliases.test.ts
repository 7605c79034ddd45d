// MQTT 5 §3.3.2.3.4 Topic Alias, both directions, and §3.1.2.11.5 / §3.2.2.3.8 Topic Alias Maximum.
import { describe, expect, it } from 'bun:test'
import type { IDisconnectPacket, IPublishPacket } from 'mqtt-packet'
import { waitFor } from '../helpers/wait.ts'
import { startEngine } from './helpers.ts'
import { rawConnected } from './raw.ts'

const publish = (topic: string, alias: number | undefined, payload: string) => ({
  cmd: 'publish' as const,
  topic,
  payload: Buffer.from(payload),
  qos: 0 as const,
  dup: false,
  retain: false,
  ...(alias !== undefined && { properties: { topicAlias: alias } }),
})

describe('topic aliases (§3.3.2.3.4)', () => {
  it('resolves a client alias set by one PUBLISH and used by the next with an empty topic', async () => {
    await using t = await startEngine({ limits: { topicAliasMaximum: 4 } })
    const got: string[] = []
    t.engine.subscribe('a/#', (m) => got.push(`${m.topic}=${m.payload}`))
    const c = await rawConnected(t.port, 'c')
    expect(c.connack.properties?.topicAliasMaximum).toBe(4)
    c.send(publish('a/long/topic', 1, 'one'))
    c.send(publish('', 1, 'two'))
    await waitFor(() => got.length === 2)
    expect(got).toEqual(['a/long/topic=one', 'a/long/topic=two'])
  })

  it('disconnects with 0x94 for an alias above the maximum [MQTT-3.3.2-9]', async () => {
    await using t = await startEngine({ limits: { topicAliasMaximum: 2 } })
    const c = await rawConnected(t.port, 'c')
    c.send(publish('a/b', 3, 'x'))
    expect((await c.next<IDisconnectPacket>('disconnect')).reasonCode).toBe(0x94)
  })

  it('disconnects with 0x82 for an empty topic with an alias never set', async () => {
    await using t = await startEngine()
    const c = await rawConnected(t.port, 'c')
    c.send(publish('', 1, 'x'))
    expect((await c.next<IDisconnectPacket>('disconnect')).reasonCode).toBe(0x82)
  })

  it('uses aliases towards a client that allows them, never above its maximum [MQTT-3.3.2-11]', async () => {
    await using t = await startEngine()
    const c = await rawConnected(t.port, 'sub', { properties: { topicAliasMaximum: 1 } })
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't/#', qos: 0 }] })
    await c.next('suback')
    for (const topic of ['t/a', 't/a', 't/b']) {
      await t.engine.publish({ topic, payload: Buffer.from('x'), qos: 0, retain: false })
    }
    const p1 = await c.next<IPublishPacket>('publish')
    const p2 = await c.next<IPublishPacket>('publish')
    const p3 = await c.next<IPublishPacket>('publish')
    expect([p1.topic, p1.properties?.topicAlias]).toEqual(['t/a', 1])
    expect([p2.topic, p2.properties?.topicAlias]).toEqual(['', 1])
    expect([p3.topic, p3.properties?.topicAlias]).toEqual(['t/b', undefined])
  })

  it('sends no alias to a client that did not allow them', async () => {
    await using t = await startEngine()
    const c = await rawConnected(t.port, 'sub')
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't/#', qos: 0 }] })
    await c.next('suback')
    await t.engine.publish({ topic: 't/a', payload: Buffer.from('x'), qos: 0, retain: false })
    const p = await c.next<IPublishPacket>('publish')
    expect(p.properties?.topicAlias).toBeUndefined()
  })
})
