// MQTT 5 §3.2.2.3.7 Assigned Client Identifier: an empty client id gets one [MQTT-3.1.3-6],
// [MQTT-3.2.2-16]; 3.1.1 accepts an empty id only with a clean session [MQTT-3.1.3-8].
import { describe, expect, it } from 'bun:test'
import type { IConnackPacket } from 'mqtt-packet'
import { startEngine } from './helpers.ts'
import { raw, rawConnected } from './raw.ts'

describe('assigned client identifier (§3.2.2.3.7)', () => {
  it('assigns a unique id to a v5 client that sent none and tells it', async () => {
    await using t = await startEngine()
    const a = await rawConnected(t.port, '')
    const b = await rawConnected(t.port, '')
    const ids = [a, b].map((c) => c.connack.properties?.assignedClientIdentifier)
    expect(ids[0]).toBeString()
    expect(ids[0]).not.toBe(ids[1])
    expect(
      t.engine
        .clients()
        .map((c) => c.id)
        .sort(),
    ).toEqual([...ids].sort() as string[])
  })

  it('3.1.1: accepts an empty id with a clean session, refuses it (2) without', async () => {
    await using t = await startEngine()
    const ok = await rawConnected(t.port, '', { protocolVersion: 4, clean: true })
    expect((ok.connack as IConnackPacket).returnCode).toBe(0)
    // mqtt-packet will not write this CONNECT: the bytes by hand (clean session 0, empty id)
    const refused = await raw(t.port, 4)
    refused.send(Uint8Array.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0, 0, 60, 0, 0]))
    expect((await refused.next<IConnackPacket>('connack')).returnCode).toBe(2)
    await refused.closed()
  })
})
