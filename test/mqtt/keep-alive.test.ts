// Keep alive (§3.1.2.10): a client silent for 1.5 × its keep alive is disconnected, v5 with 0x8D
// [MQTT-3.1.2-22]; a server keep alive replaces the client's and is sent in CONNACK [MQTT-3.2.2-21].
import { describe, expect, it } from 'bun:test'
import type { IDisconnectPacket } from 'mqtt-packet'
import { waitFor } from '../helpers/wait.ts'
import { startEngine } from './helpers.ts'
import { rawConnected } from './raw.ts'

describe('keep alive (§3.1.2.10)', () => {
  it('disconnects a silent v5 client with 0x8D after 1.5 × keep alive, and publishes its will', async () => {
    let now = 1_000_000
    await using t = await startEngine({ now: () => now })
    const wills: string[] = []
    t.engine.subscribe('gone', (m) => wills.push(m.payload.toString()))
    const c = await rawConnected(t.port, 'quiet', {
      keepalive: 10,
      will: { topic: 'gone', payload: Buffer.from('quiet'), qos: 0, retain: false },
    })
    now += 14_000
    c.send({ cmd: 'pingreq' })
    await c.next('pingresp')
    now += 15_001
    expect((await c.next<IDisconnectPacket>('disconnect')).reasonCode).toBe(0x8d)
    await waitFor(() => wills.length === 1)
  })

  it('closes a silent 3.1.1 client without a DISCONNECT', async () => {
    let now = 1_000_000
    await using t = await startEngine({ now: () => now })
    const c = await rawConnected(t.port, 'quiet', { keepalive: 2, protocolVersion: 4 })
    now += 3001
    await c.closed()
    expect(c.packets.map((p) => p.cmd)).toEqual(['connack'])
  })

  it('sends Server Keep Alive and applies it', async () => {
    let now = 1_000_000
    await using t = await startEngine({ now: () => now, limits: { serverKeepAlive: 5 } })
    const c = await rawConnected(t.port, 'c', { keepalive: 0 })
    expect(c.connack.properties?.serverKeepAlive).toBe(5)
    now += 7600
    expect((await c.next<IDisconnectPacket>('disconnect')).reasonCode).toBe(0x8d)
  })
})
