// MQTT 5 §4.12 enhanced authentication: no method is implemented, so a CONNECT naming one is
// refused with CONNACK 0x8C bad authentication method; an AUTH packet without an agreed method is
// a protocol error (DISCONNECT 0x82, as 0x8C is no DISCONNECT reason code, §3.14.2.1).
import { describe, expect, it } from 'bun:test'
import type { IDisconnectPacket } from 'mqtt-packet'
import { MqttError } from '../../src/mqtt/index.ts'
import { startEngine } from './helpers.ts'
import { rawConnected } from './raw.ts'

describe('AUTH (§4.12)', () => {
  it('refuses a CONNECT with an Authentication Method with CONNACK 0x8C', async () => {
    await using t = await startEngine()
    const c = await rawConnected(t.port, 'c', { properties: { authenticationMethod: 'SCRAM-SHA-1' } })
    expect(c.connack.reasonCode).toBe(0x8c)
    await c.closed()
  })

  it('answers an AUTH packet with DISCONNECT 0x82 protocol error', async () => {
    await using t = await startEngine()
    const c = await rawConnected(t.port, 'c')
    c.send({ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'x' } })
    expect((await c.next<IDisconnectPacket>('disconnect')).reasonCode).toBe(0x82)
  })

  it('answers the authenticate hook’s refusal in CONNACK: v5 0x86, 3.1.1 return code 4', async () => {
    await using t = await startEngine({
      hooks: {
        authenticate: () => {
          throw new MqttError(0x86, 'bad user name or password')
        },
      },
    })
    const v5 = await rawConnected(t.port, 'c', { username: 'u', password: Buffer.from('p') })
    expect([v5.connack.reasonCode, v5.connack.properties?.reasonString]).toEqual([
      0x86,
      'bad user name or password',
    ])
    const v4 = await rawConnected(t.port, 'c', {
      protocolVersion: 4,
      username: 'u',
      password: Buffer.from('p'),
    })
    expect(v4.connack.returnCode).toBe(4)
  })
})
