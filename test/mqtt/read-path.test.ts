// The read path: packets cut anywhere by the transport are put together again, whatever the cut
// (inside the fixed header, the topic, the payload), and what the engine keeps of a QoS 0 message
// read in place owns its bytes.
import { describe, expect, it } from 'bun:test'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { waitFor } from '../helpers/wait.ts'
import { startEngine } from './helpers.ts'
import { connectPacket } from './raw.ts'

const gen = (p: Packet) => new Uint8Array(mqttPacket.generate(p, { protocolVersion: 5 }))

const publish = (topic: string, payload: Buffer, retain = false): Packet => ({
  cmd: 'publish',
  topic,
  payload,
  qos: 0,
  dup: false,
  retain,
})

/** A WebSocket client: each `send` reaches the engine as one read of its own. */
async function wsClient(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, 'mqtt')
  ws.binaryType = 'arraybuffer'
  await new Promise((resolve, reject) => {
    ws.onopen = resolve
    ws.onerror = reject
  })
  return ws
}

describe('the read path', () => {
  it('puts together packets cut at every length, large ones included, in order', async () => {
    await using t = await startEngine()
    const got: string[] = []
    t.engine.subscribe('cut/#', (m) =>
      got.push(`${m.topic}:${m.payload.length}:${m.payload[m.payload.length - 1]}`),
    )
    const ws = await wsClient(t.wsUrl)
    const sizes = [0, 1, 126, 127, 128, 300, 16_383, 16_384, 70_000, 5]
    const stream = Buffer.concat([
      gen(connectPacket('cutter')),
      ...sizes.map((n, i) => gen(publish(`cut/${i}`, Buffer.alloc(n, i + 1)))),
    ])
    // Reads of 1, 2, 3 … bytes, then larger ones: every cut falls somewhere else in a packet.
    let pos = 0
    for (let step = 1; pos < stream.length; step = step < 40 ? step + 1 : step * 2) {
      ws.send(stream.subarray(pos, pos + step))
      pos += step
    }
    const expected = sizes.map((n, i) => `cut/${i}:${n}:${n === 0 ? undefined : i + 1}`)
    await waitFor(() => got.length === sizes.length, { what: 'every PUBLISH' })
    expect(got).toEqual(expected)
    ws.close()
  })

  it('gives a retained QoS 0 message and one an in-process subscriber keeps bytes of their own', async () => {
    await using t = await startEngine()
    const kept: Buffer[] = []
    t.engine.subscribe('own/#', (m) => kept.push(m.payload))
    const ws = await wsClient(t.wsUrl)
    // Both PUBLISHes in one read: a view of it would pin the whole read.
    ws.send(
      Buffer.concat([
        gen(connectPacket('owner')),
        gen(publish('own/retained', Buffer.from('kept'), true)),
        gen(publish('own/live', Buffer.from('live'))),
      ]),
    )
    await waitFor(() => kept.length === 2, { what: 'both messages' })
    const retained = t.engine.retained('own/#')
    expect(retained.map((m) => m.payload.toString())).toEqual(['kept'])
    expect([...retained.map((m) => m.payload), ...kept].map((p) => p.buffer.byteLength === p.length)).toEqual(
      [true, true, true],
    )
    expect(kept.map(String)).toEqual(['kept', 'live'])
    ws.close()
  })
})
