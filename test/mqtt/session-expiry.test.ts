// MQTT 5 §3.1.2.4 Clean Start, §3.1.2.11.2 Session Expiry Interval, §3.1.4 takeover, and the
// session owner: a session belongs to the identity that created it.
import { describe, expect, it } from 'bun:test'
import type { IConnackPacket, IDisconnectPacket, IPublishPacket } from 'mqtt-packet'
import { MqttError } from '../../src/mqtt/index.ts'
import { waitFor } from '../helpers/wait.ts'
import { startEngine } from './helpers.ts'
import { rawConnected } from './raw.ts'

describe('session expiry and clean start (§3.1.2.4, §3.1.2.11.2)', () => {
  it('resumes a session with Clean Start 0 and delivers what was queued while away', async () => {
    await using t = await startEngine()
    const a = await rawConnected(t.port, 'dev', { properties: { sessionExpiryInterval: 60 } })
    expect(a.connack.sessionPresent).toBe(false)
    a.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q/#', qos: 1 }] })
    await a.next('suback')
    a.send({ cmd: 'disconnect', reasonCode: 0 })
    await a.closed()
    await t.engine.publish({ topic: 'q/1', payload: Buffer.from('while away'), qos: 1, retain: false })
    const b = await rawConnected(t.port, 'dev', { clean: false, properties: { sessionExpiryInterval: 60 } })
    expect(b.connack.sessionPresent).toBe(true)
    const p = await b.next<IPublishPacket>('publish')
    expect(p.payload.toString()).toBe('while away')
  })

  it('discards the session on Clean Start 1 [MQTT-3.1.2-4]', async () => {
    await using t = await startEngine()
    const a = await rawConnected(t.port, 'dev', { properties: { sessionExpiryInterval: 60 } })
    a.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q/#', qos: 1 }] })
    await a.next('suback')
    a.end()
    await waitFor(() => t.engine.clients().length === 0)
    const b = await rawConnected(t.port, 'dev', { clean: true, properties: { sessionExpiryInterval: 60 } })
    expect(b.connack.sessionPresent).toBe(false)
    expect(t.engine.stats().subscriptions).toBe(0)
  })

  it('ends a session with expiry 0 at disconnect, and one with an interval once it elapsed', async () => {
    let now = 1_000_000
    await using t = await startEngine({ now: () => now })
    const a = await rawConnected(t.port, 'short', { properties: { sessionExpiryInterval: 5 } })
    a.end()
    const b = await rawConnected(t.port, 'none')
    b.end()
    await waitFor(() => t.engine.stats().sessions === 1)
    now += 6000
    await waitFor(() => t.engine.stats().sessions === 0)
    await waitFor(() => t.store.snapshot().sessions.length === 0)
  })

  it('grants at most the server maximum and says so in CONNACK (§3.2.2.3.2)', async () => {
    await using t = await startEngine({ limits: { maxSessionExpiryInterval: 100 } })
    const a = await rawConnected(t.port, 'dev', { properties: { sessionExpiryInterval: 5000 } })
    expect(a.connack.properties?.sessionExpiryInterval).toBe(100)
  })

  it('takes over a connected client id with DISCONNECT 0x8E [MQTT-3.1.4-3]', async () => {
    await using t = await startEngine()
    const a = await rawConnected(t.port, 'dup')
    const b = await rawConnected(t.port, 'dup')
    expect(b.connack.reasonCode).toBe(0)
    const d = await a.next<IDisconnectPacket>('disconnect')
    expect(d.reasonCode).toBe(0x8e)
    await a.closed()
  })

  it('refuses another owner the session (0x87, sessionRefused) and keeps the live connection', async () => {
    const refused: string[] = []
    await using t = await startEngine({
      hooks: {
        authenticate: (_c, username) => {
          if (!username) throw new MqttError(0x86, 'bad user name or password')
          return username
        },
        sessionRefused: (client, owner) => refused.push(`${client.username}→${owner}`),
      },
    })
    const a = await rawConnected(t.port, 'device-b', {
      username: 'b',
      properties: { sessionExpiryInterval: 60 },
    })
    const intruder = await rawConnected(t.port, 'device-b', { username: 'a' })
    expect(intruder.connack.reasonCode).toBe(0x87)
    await intruder.closed()
    expect(refused).toEqual(['a→b'])
    expect(a.isClosed()).toBe(false)
    a.send({ cmd: 'pingreq' })
    await a.next('pingresp')
    const v3 = await rawConnected(t.port, 'device-b', { username: 'a', protocolVersion: 4 })
    expect((v3.connack as IConnackPacket).returnCode).toBe(5)
  })
})
