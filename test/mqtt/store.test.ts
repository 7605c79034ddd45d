// The engine and its EngineStore: acknowledgements wait for the group commit that made the
// message durable; a new engine on the same store resumes sessions, queues and retained messages;
// a full queue drops new messages and says so once per episode.
import { describe, expect, it } from 'bun:test'
import type { IConnackPacket, IPubackPacket, IPublishPacket } from 'mqtt-packet'
import { createMemoryStore, type EngineStore, type StoreOp } from '../../src/mqtt/index.ts'
import { waitFor } from '../helpers/wait.ts'
import { startEngine } from './helpers.ts'
import { rawConnected } from './raw.ts'

describe('engine store', () => {
  it('sends PUBACK for a retained QoS 1 message only after the store write resolved', async () => {
    const memory = createMemoryStore()
    const pending: Array<() => void> = []
    const writes: StoreOp[][] = []
    // Durable only once the test says so.
    const slow: EngineStore = {
      load: () => memory.load(),
      write(ops) {
        writes.push([...ops])
        memory.write(ops)
        return new Promise<void>((resolve) => pending.push(resolve))
      },
    }
    await using t = await startEngine({ store: { ...memory, ...slow, snapshot: memory.snapshot, writes: 0 } })
    const c = await rawConnected(t.port, 'c')
    c.send({
      cmd: 'publish',
      topic: 'r',
      payload: Buffer.from('v'),
      qos: 1,
      messageId: 5,
      dup: false,
      retain: true,
    })
    await waitFor(() => pending.length === 1)
    const received = t.engine.stats().bytesReceived
    c.send({ cmd: 'pingreq' })
    await waitFor(() => t.engine.stats().bytesReceived === received + 2)
    // the PINGRESP is written behind the held PUBACK: nothing arrives before the write resolves
    expect(c.packets.map((p) => p.cmd)).toEqual(['connack'])
    expect(writes[0]?.map((o) => o.op)).toEqual(['retain'])
    pending.shift()!()
    const ack = await c.next<IPubackPacket>('puback')
    expect(ack.messageId).toBe(5)
    await c.next('pingresp')
  })

  it('resumes sessions, queued messages and retained messages in a new engine on the same store', async () => {
    const store = createMemoryStore()
    {
      await using t = await startEngine({ store })
      const c = await rawConnected(t.port, 'keeper', { properties: { sessionExpiryInterval: 3600 } })
      c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'k/#', qos: 1 }] })
      await c.next('suback')
      c.send({ cmd: 'disconnect', reasonCode: 0 })
      await c.closed()
      await t.engine.publish({ topic: 'k/1', payload: Buffer.from('queued'), qos: 1, retain: false })
      await t.engine.publish({ topic: 'k/r', payload: Buffer.from('retained'), qos: 0, retain: true })
    }
    await using t2 = await startEngine({ store })
    expect(t2.engine.retained('k/#').map((m) => m.payload.toString())).toEqual(['retained'])
    const back = await rawConnected(t2.port, 'keeper', {
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
    })
    expect((back.connack as IConnackPacket).sessionPresent).toBe(true)
    const p = await back.next<IPublishPacket>('publish')
    expect(p.payload.toString()).toBe('queued')
    back.send({ cmd: 'puback', messageId: p.messageId })
    await waitFor(() => store.snapshot().sessions[0]?.queue.length === 0)
  })

  it('drops new messages beyond maxQueuedMessages and calls queueOverflow once per episode', async () => {
    const overflows: Array<[string, number]> = []
    await using t = await startEngine({
      limits: { maxQueuedMessages: 2 },
      hooks: { queueOverflow: (id, n) => overflows.push([id, n]) },
    })
    const c = await rawConnected(t.port, 'offline', { properties: { sessionExpiryInterval: 60 } })
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'o', qos: 1 }] })
    await c.next('suback')
    c.send({ cmd: 'disconnect', reasonCode: 0 })
    await c.closed()
    for (let i = 0; i < 5; i++)
      await t.engine.publish({ topic: 'o', payload: Buffer.from(String(i)), qos: 1, retain: false })
    expect(overflows).toEqual([['offline', 1]])
    expect(t.engine.stats().droppedMessages).toBe(3)
    const back = await rawConnected(t.port, 'offline', {
      clean: false,
      properties: { sessionExpiryInterval: 60 },
    })
    const got: string[] = []
    for (let i = 0; i < 2; i++) {
      const p = await back.next<IPublishPacket>('publish')
      got.push(p.payload.toString())
      back.send({ cmd: 'puback', messageId: p.messageId })
    }
    expect(got).toEqual(['0', '1'])
  })
})
