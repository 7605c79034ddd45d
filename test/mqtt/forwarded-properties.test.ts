// MQTT 5 properties the server forwards (§3.3.2.3) go out as the bytes they came in: user
// properties in wire order, interleaved with other properties [MQTT-3.3.2-17], [MQTT-3.3.2-18],
// while what changes per delivery (topic alias, message expiry) is taken out and written anew
// [MQTT-3.3.2-6], [MQTT-3.3.2-12]. Whoever reads them in process gets them decoded.
import { describe, expect, it } from 'bun:test'
import mqttPacket from 'mqtt-packet'
import { OutBuffer } from '../../src/mqtt/codec.ts'
import type { MessageProperties } from '../../src/mqtt/index.ts'
import { waitFor } from '../helpers/wait.ts'
import { startEngine } from './helpers.ts'
import { connectPacket } from './raw.ts'

const str = (s: string) => {
  const b = Buffer.from(s)
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b])
}
/** A Variable Byte Integer [MQTT-1.5.5], as the engine writes it. */
const varint = (n: number) => {
  const out = new OutBuffer()
  out.ensure(4)
  out.varint(n)
  return out.buf.subarray(0, out.len)
}

/** The forwarded entries, in the order a publisher chose; the alias and expiry go between them. */
const forwarded = [
  Buffer.concat([Buffer.from([0x26]), str('a'), str('1')]),
  Buffer.concat([Buffer.from([0x03]), str('text/plain')]),
  Buffer.concat([Buffer.from([0x26]), str('b'), str('2')]),
  Buffer.concat([Buffer.from([0x09]), str('\x01\x02\x03')]),
  Buffer.concat([Buffer.from([0x26]), str('a'), str('3')]),
]
const expiry = Buffer.from([0x02, 0, 0, 0, 60])
const alias = Buffer.from([0x23, 0, 3])

/** A QoS 0 PUBLISH to `t/x` whose property block interleaves the alias and expiry with the rest. */
function publishPacket(): Buffer {
  const props = Buffer.concat([forwarded[0]!, expiry, forwarded[1]!, alias, ...forwarded.slice(2)])
  const body = Buffer.concat([str('t/x'), varint(props.length), props, Buffer.from('hi')])
  return Buffer.concat([Buffer.from([0x30]), varint(body.length), body])
}

/** Every byte a subscriber of `t/#` receives, read without a parser. */
async function byteSubscriber(port: number) {
  let got = Buffer.alloc(0)
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      data: (_s, d) => {
        got = Buffer.concat([got, d])
      },
    },
  })
  socket.write(mqttPacket.generate(connectPacket('bytes'), { protocolVersion: 5 }))
  socket.write(
    mqttPacket.generate(
      { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't/#', qos: 0 }] },
      { protocolVersion: 5 },
    ),
  )
  // CONNACK and SUBACK come first; the PUBLISH is the packet of type 3.
  const publish = () => waitFor(() => packets(got).find((p) => p[0]! >> 4 === 3), { what: 'the PUBLISH' })
  return { socket, publish, suback: () => waitFor(() => packets(got).some((p) => p[0] === 0x90)) }
}

function packets(buf: Buffer): Buffer[] {
  const out: Buffer[] = []
  let pos = 0
  while (pos < buf.length) {
    let len = 0
    let mult = 1
    let i = pos + 1
    for (; i < buf.length; i++) {
      len += (buf[i]! & 0x7f) * mult
      mult *= 128
      if ((buf[i]! & 0x80) === 0) break
    }
    const end = i + 1 + len
    if (end > buf.length) break
    out.push(buf.subarray(pos, end))
    pos = end
  }
  return out
}

describe('forwarded MQTT 5 properties', () => {
  it('go out as they came, in wire order, with the expiry written anew and no alias of the publisher', async () => {
    await using t = await startEngine()
    const seen: MessageProperties[] = []
    t.engine.subscribe('t/#', (m) => seen.push(m.properties ?? {}))
    const sub = await byteSubscriber(t.port)
    await sub.suback()
    const pub = await Bun.connect({ hostname: '127.0.0.1', port: t.port, socket: { data() {} } })
    pub.write(
      Buffer.concat([mqttPacket.generate(connectPacket('pub'), { protocolVersion: 5 }), publishPacket()]),
    )
    const p = await sub.publish()
    // Fixed header, topic `t/x`, then the property block: the remaining expiry first, then the
    // forwarded entries exactly as they came (the subscriber allows no topic alias).
    const props = Buffer.concat(forwarded)
    const header = p.subarray(0, p.length - 2 - props.length)
    expect(header[header.length - 5]).toBe(0x02)
    expect(header.readUInt32BE(header.length - 4)).toBeGreaterThanOrEqual(59)
    expect(p.subarray(p.length - 2 - props.length)).toEqual(Buffer.concat([props, Buffer.from('hi')]))
    const m = seen[0]!
    expect([
      m.payloadFormatIndicator,
      m.contentType,
      m.responseTopic,
      m.correlationData,
      m.userProperties,
    ]).toEqual([
      undefined,
      'text/plain',
      undefined,
      Buffer.from([1, 2, 3]),
      [
        ['a', '1'],
        ['b', '2'],
        ['a', '3'],
      ],
    ])
    sub.socket.end()
    pub.end()
  })

  it('survive as retained bytes of their own, decoded alike for a later subscriber', async () => {
    await using t = await startEngine()
    const pub = await Bun.connect({ hostname: '127.0.0.1', port: t.port, socket: { data() {} } })
    const retained = publishPacket()
    retained[0] = 0x31
    pub.write(Buffer.concat([mqttPacket.generate(connectPacket('pub'), { protocolVersion: 5 }), retained]))
    await waitFor(() => t.engine.retained('t/x').length === 1, { what: 'the retained message' })
    const props = t.engine.retained('t/x')[0]!.properties!
    expect(props.userProperties).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['a', '3'],
    ])
    const sub = await byteSubscriber(t.port)
    const p = await sub.publish()
    expect(p.subarray(p.length - 2 - Buffer.concat(forwarded).length)).toEqual(
      Buffer.concat([...forwarded, Buffer.from('hi')]),
    )
    sub.socket.end()
    pub.end()
  })
})
