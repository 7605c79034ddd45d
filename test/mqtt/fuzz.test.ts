// Malformed packets: seeded random mutations of valid packets of both versions, plus hand-made bad
// cases. Whatever arrives, the engine stays up, throws nothing unhandled and still serves others.
import { describe, expect, it } from 'bun:test'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { waitFor } from '../helpers/wait.ts'
import { startEngine } from './helpers.ts'
import { connectPacket, raw, rawConnected } from './raw.ts'

/** mulberry32: a small seeded PRNG, so a failing case can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SEED = 0x4ea27
const CASES = 240

const valid = (v: 4 | 5): Packet[] => [
  {
    cmd: 'publish',
    topic: 'a/b',
    payload: Buffer.from('hello'),
    qos: 1,
    messageId: 7,
    dup: false,
    retain: true,
    ...(v === 5 && {
      properties: { userProperties: { k: 'v' }, contentType: 'x', messageExpiryInterval: 9, topicAlias: 1 },
    }),
  },
  {
    cmd: 'publish',
    topic: 'a/c',
    payload: Buffer.alloc(40, 1),
    qos: 2,
    messageId: 8,
    dup: false,
    retain: false,
  },
  {
    cmd: 'subscribe',
    messageId: 3,
    subscriptions: [
      { topic: 'a/+', qos: 1 },
      { topic: '$share/g/#', qos: 2 },
    ],
    ...(v === 5 && { properties: { subscriptionIdentifier: 5 } }),
  },
  { cmd: 'unsubscribe', messageId: 4, unsubscriptions: ['a/+', 'x'] },
  { cmd: 'puback', messageId: 1 },
  { cmd: 'pubrec', messageId: 2 },
  { cmd: 'pubrel', messageId: 3 },
  { cmd: 'pubcomp', messageId: 4 },
  { cmd: 'pingreq' },
  { cmd: 'disconnect', ...(v === 5 && { reasonCode: 4, properties: { sessionExpiryInterval: 0 } }) },
]

function mutate(bytes: Uint8Array, rnd: () => number): Uint8Array {
  const b = Array.from(bytes)
  const n = 1 + Math.floor(rnd() * 4)
  for (let i = 0; i < n; i++) {
    const at = Math.floor(rnd() * b.length)
    const kind = rnd()
    if (kind < 0.5) b[at] = Math.floor(rnd() * 256)
    else if (kind < 0.7) b.splice(at, 1)
    else if (kind < 0.85) b.splice(at, 0, Math.floor(rnd() * 256))
    else b.length = Math.max(1, at)
  }
  return Uint8Array.from(b)
}

const handMade: Uint8Array[] = [
  Uint8Array.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]), // remaining length of five bytes
  Uint8Array.from([0x00, 0x00]), // reserved type 0
  Uint8Array.from([0x36, 5, 0, 1, 0x61, 0, 1]), // QoS 3
  Uint8Array.from([0x62, 0]), // PUBREL with no packet id
  Uint8Array.from([0x31, 2, 0, 0]), // empty topic, no alias
  Uint8Array.from([0x30, 3, 0, 1, 0x23]), // wildcard in a topic name
  Uint8Array.from([0x82, 3, 0, 1, 0]), // SUBSCRIBE without filters
  Uint8Array.from([0xf0, 0]), // AUTH
  Uint8Array.from([0x10, 0]), // second CONNECT, empty
  Uint8Array.from([0xc0, 1, 0]), // PINGREQ with a body
]

describe('malformed packets', () => {
  it(`survives ${CASES} seeded mutations (seed ${SEED}) and the hand-made cases`, async () => {
    await using t = await startEngine({ limits: { connectTimeoutMs: 2000 } })
    const rnd = prng(SEED)
    const inputs: Array<{ v: 4 | 5; connect: boolean; bytes: Uint8Array }> = []
    for (let i = 0; i < CASES; i++) {
      const v = rnd() < 0.5 ? 4 : 5
      const list = valid(v)
      const connect = rnd() < 0.8
      const base = connect
        ? mqttPacket.generate(list[Math.floor(rnd() * list.length)]!, { protocolVersion: v })
        : mqttPacket.generate(
            connectPacket(`f${i}`, {
              protocolVersion: v,
              will: { topic: 'w', payload: Buffer.from('x'), qos: 1, retain: false },
              username: 'u',
              password: Buffer.from('p'),
              ...(v === 5 && {
                properties: { sessionExpiryInterval: 10, receiveMaximum: 5, topicAliasMaximum: 3 },
              }),
            }),
            { protocolVersion: v },
          )
      inputs.push({ v, connect, bytes: mutate(base, rnd) })
    }
    for (const bytes of handMade) inputs.push({ v: 5, connect: true, bytes })
    // In batches, each client on its own connection, each ended after its bytes went out.
    for (let i = 0; i < inputs.length; i += 20) {
      await Promise.all(
        inputs.slice(i, i + 20).map(async ({ v, connect, bytes }, k) => {
          const c = connect
            ? await rawConnected(t.port, `fz${i + k}`, { protocolVersion: v })
            : await raw(t.port, v)
          c.send(bytes)
          c.send(Uint8Array.from([0xc0, 0]))
          // A truncated packet leaves the engine waiting for the rest: bounded, then ended.
          await waitFor(() => c.isClosed() || c.packets.some((p) => p.cmd === 'pingresp'), {
            timeoutMs: 400,
          }).catch(() => undefined)
          c.end()
        }),
      )
    }
    await waitFor(() => t.engine.stats().sockets === 0, { timeoutMs: 10_000 })
    // Nothing threw inside the engine (a handler bug would be logged as an error).
    expect(t.errors).toEqual([])
    const sub = await rawConnected(t.port, 'after-sub')
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'still/up', qos: 1 }] })
    await sub.next('suback')
    const pub = await rawConnected(t.port, 'after-pub')
    pub.send({
      cmd: 'publish',
      topic: 'still/up',
      payload: Buffer.from('yes'),
      qos: 1,
      messageId: 1,
      dup: false,
      retain: false,
    })
    await pub.next('puback')
    const p = await sub.next<mqttPacket.IPublishPacket>('publish')
    expect(p.payload.toString()).toBe('yes')
  })
})
