// MQTT 5 §3.1.3.2.2 Will Delay Interval: the will goes out after the delay or when the session
// ends, whichever first, and not at all when the session resumes in time [MQTT-3.1.3-9];
// DISCONNECT 0x00 discards it, 0x04 asks for it [MQTT-3.14.4-3].
import { describe, expect, it } from 'bun:test'
import type { IConnectPacket, IPublishPacket } from 'mqtt-packet'
import { waitFor } from '../helpers/wait.ts'
import { startEngine } from './helpers.ts'
import { rawConnected } from './raw.ts'

const will = (delay: number): IConnectPacket['will'] => ({
  topic: 'status/dev',
  payload: Buffer.from('offline'),
  qos: 1,
  retain: false,
  properties: { willDelayInterval: delay },
})

/** Payloads published to `status/#`, where the wills of these tests go, in order. */
function wills(t: Awaited<ReturnType<typeof startEngine>>): string[] {
  const got: string[] = []
  t.engine.subscribe('status/#', (m) => got.push(m.payload.toString()))
  return got
}

/** Connects `dev` with a will delayed `delay` s and a session of `expiry` s, then drops it. */
async function dropWithWill(t: Awaited<ReturnType<typeof startEngine>>, delay: number, expiry: number) {
  const c = await rawConnected(t.port, 'dev', {
    will: will(delay),
    properties: { sessionExpiryInterval: expiry },
  })
  c.end()
  await waitFor(() => t.engine.clients().length === 0)
}

describe('will delay (§3.1.3.2.2)', () => {
  it('publishes a will with delay 0 as soon as the connection drops', async () => {
    await using t = await startEngine()
    const got = wills(t)
    const c = await rawConnected(t.port, 'dev', { will: will(0) })
    c.end()
    await waitFor(() => got.length === 1)
    expect(got).toEqual(['offline'])
  })

  it('publishes a delayed will once the delay passed', async () => {
    let now = 1_000_000
    await using t = await startEngine({ now: () => now })
    const got = wills(t)
    await dropWithWill(t, 30, 300)
    expect(got).toEqual([])
    now += 31_000
    await waitFor(() => got.length === 1)
  })

  it('does not publish the will when the session resumes within the delay', async () => {
    let now = 1_000_000
    await using t = await startEngine({ now: () => now })
    const got = wills(t)
    await dropWithWill(t, 30, 300)
    const back = await rawConnected(t.port, 'dev', {
      clean: false,
      properties: { sessionExpiryInterval: 300 },
    })
    expect(back.connack.sessionPresent).toBe(true)
    now += 60_000
    back.send({ cmd: 'pingreq' })
    await back.next('pingresp')
    // a sweep ran after the delay had passed
    await waitFor(() => t.engine.stats().sessions === 1 && now > 0)
    await new Promise<void>((resolve) => setImmediate(resolve))
    expect(got).toEqual([])
  })

  it('publishes the will when the session ends before the delay [MQTT-3.1.3-9]', async () => {
    let now = 1_000_000
    await using t = await startEngine({ now: () => now })
    const got = wills(t)
    await dropWithWill(t, 600, 10)
    now += 11_000
    await waitFor(() => got.length === 1)
  })

  it('discards the will on DISCONNECT 0x00 and publishes it on 0x04', async () => {
    await using t = await startEngine()
    const got = wills(t)
    const a = await rawConnected(t.port, 'a', { will: will(0) })
    a.send({ cmd: 'disconnect', reasonCode: 0 })
    await a.closed()
    const b = await rawConnected(t.port, 'b', { will: { ...will(0)!, payload: Buffer.from('b gone') } })
    b.send({ cmd: 'disconnect', reasonCode: 0x04 })
    await waitFor(() => got.length === 1)
    expect(got).toEqual(['b gone'])
  })

  it('counts the will’s Message Expiry Interval from when it is published', async () => {
    await using t = await startEngine()
    const sub = await rawConnected(t.port, 'watcher')
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'status/#', qos: 1 }] })
    await sub.next('suback')
    const w = { ...will(0)!, properties: { willDelayInterval: 0, messageExpiryInterval: 30 } }
    const c = await rawConnected(t.port, 'dev', { will: w })
    c.end()
    const p = await sub.next<IPublishPacket>('publish')
    expect([p.payload.toString(), p.properties?.messageExpiryInterval]).toEqual(['offline', 30])
  })
})
