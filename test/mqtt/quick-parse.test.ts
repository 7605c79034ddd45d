import { describe, expect, it } from 'bun:test'
import mqttPacket, { type IConnectPacket, type ISubscribePacket } from 'mqtt-packet'
import { ControlParser } from '../../src/mqtt/codec.ts'
import { quickConnect, quickSubscribe } from '../../src/mqtt/handlers/quick-parse.ts'

/** The fields of a CONNECT the handler reads. */
const connectFields = (p: IConnectPacket) => ({
  protocolVersion: p.protocolVersion,
  clean: p.clean,
  keepalive: p.keepalive,
  clientId: p.clientId,
  username: p.username,
  password: p.password === undefined ? undefined : Buffer.from(p.password).toString('hex'),
  will: p.will,
  properties: p.properties,
})

const subscribeFields = (p: ISubscribePacket) => ({
  messageId: p.messageId,
  subscriptions: p.subscriptions,
  properties: p.properties,
})

const connect = (o: Partial<IConnectPacket>) =>
  mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clientId: 'c',
    ...o,
  } as IConnectPacket)

describe('quick CONNECT and SUBSCRIBE parsing', () => {
  it('reads a 3.1.1 CONNECT as mqtt-packet does', () => {
    const parser = new ControlParser()
    const frames = [
      connect({ clean: true, keepalive: 60, clientId: 'storm-1' }),
      connect({ clean: false, keepalive: 0, clientId: 'persistent' }),
      connect({ clean: true, keepalive: 0, clientId: '' }),
      connect({ clean: true, keepalive: 65535, clientId: 'ünï-☃', username: 'd1' }),
      connect({ clean: true, keepalive: 30, clientId: 'x', username: 'd1', password: Buffer.from('s3cret') }),
      connect({ clean: true, keepalive: 30, clientId: 'x', username: '', password: Buffer.alloc(0) }),
    ]
    for (const frame of frames) {
      const quick = quickConnect(frame)
      expect(quick).toBeDefined()
      expect(connectFields(quick!)).toEqual(connectFields(parser.parse(frame, 4) as IConnectPacket))
    }
    // ill-formed UTF-8 in the client id: both give U+FFFD, which the handler refuses
    const bad = Buffer.from(connect({ clientId: 'ab' }))
    bad[bad.length - 1] = 0xff
    expect(quickConnect(bad)?.clientId).toBe((parser.parse(bad, 4) as IConnectPacket).clientId)
  })

  it('leaves every other CONNECT to mqtt-packet', () => {
    const will = { topic: 'w', payload: Buffer.from('x'), qos: 0 as const, retain: false }
    const reserved = Buffer.from(connect({}))
    reserved[9] = reserved[9]! | 1
    const longer = Buffer.concat([connect({}), Buffer.from([0])])
    longer[1] = longer[1]! + 1
    const frames = [
      connect({ will }),
      connect({ protocolVersion: 5 }),
      connect({ protocolId: 'MQIsdp', protocolVersion: 3 }),
      reserved,
      longer,
      connect({ clientId: 'x' }).subarray(0, 12),
    ]
    for (const frame of frames) expect(quickConnect(Buffer.from(frame))).toBeUndefined()
  })

  it('reads a 3.1.1 SUBSCRIBE as mqtt-packet does, and leaves the rest to it', () => {
    const parser = new ControlParser()
    const sub = (subscriptions: ISubscribePacket['subscriptions'], messageId = 7) =>
      Buffer.from(mqttPacket.generate({ cmd: 'subscribe', messageId, subscriptions }))
    const frames = [
      sub([{ topic: 'bench/storm/1', qos: 1 }]),
      sub(
        [
          { topic: 'a/+', qos: 0 },
          { topic: '#', qos: 2 },
          { topic: 'a/+', qos: 1 },
        ],
        65535,
      ),
      sub([{ topic: 'ünï/☃', qos: 0 }]),
    ]
    for (const frame of frames) {
      const quick = quickSubscribe(frame, 4)
      expect(quick).toBeDefined()
      expect(subscribeFields(quick!)).toEqual(subscribeFields(parser.parse(frame, 4) as ISubscribePacket))
    }
    const qos3 = sub([{ topic: 'a', qos: 1 }])
    qos3[qos3.length - 1] = 3
    const reservedBits = sub([{ topic: 'a', qos: 1 }])
    reservedBits[reservedBits.length - 1] = 0x11
    expect([quickSubscribe(qos3, 4), quickSubscribe(reservedBits, 4), quickSubscribe(frames[0]!, 5)]).toEqual(
      [undefined, undefined, undefined],
    )
  })
})
