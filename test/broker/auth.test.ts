import { describe, expect, it } from 'bun:test'
import { rotateDeviceCredentials, setDeviceEnabled } from '../../src/devices/registry.ts'
import { startTestHub } from '../helpers/hub.ts'
import { addDevice, collect, connackCode, connect, login } from './mqtt-fixture.ts'

describe('broker authentication', () => {
  it('refuses anonymous clients by default with CONNACK 5 and records it', async () => {
    await using t = await startTestHub()
    const failed = collect(t, 'auth.failed')
    expect(await connackCode(t.mqttUrl, { clientId: 'anon-1' })).toBe(5)
    expect(failed.map((e) => e.detail)).toEqual([
      { address: '127.0.0.1', username: null, clientId: 'anon-1', reason: 'anonymous refused' },
    ])
  })

  it('lets anonymous clients in when mqtt.allowAnonymous is set', async () => {
    await using t = await startTestHub({ mqtt: { allowAnonymous: true } })
    expect(await connackCode(t.mqttUrl)).toBe(0)
  })

  it('accepts a registered device with the password it was given', async () => {
    await using t = await startTestHub()
    const creds = await addDevice(t.hub.db, 'd1')
    await using c = await connect(t.mqttUrl, login(creds))
    expect(c.connected).toBe(true)
  })

  it('answers 4 to an unknown username or a wrong password and 5 to a disabled device', async () => {
    await using t = await startTestHub()
    const creds = await addDevice(t.hub.db, 'd1')
    const failed = collect(t, 'auth.failed')
    expect(await connackCode(t.mqttUrl, { username: 'ghost', password: 'x' })).toBe(4)
    expect(await connackCode(t.mqttUrl, { username: 'd1', password: 'wrong' })).toBe(4)
    expect(await connackCode(t.mqttUrl, { username: 'd1' })).toBe(4)
    setDeviceEnabled(t.hub.db, 'd1', false)
    expect(await connackCode(t.mqttUrl, login(creds))).toBe(5)
    expect(failed.map((e) => [e.subject, e.detail.username, e.detail.reason])).toEqual([
      ['ghost', 'ghost', 'unknown device'],
      ['d1', 'd1', 'bad password'],
      ['d1', 'd1', 'bad password'],
      ['d1', 'd1', 'device disabled'],
    ])
    const stored = t.hub.db.query("SELECT count(*) AS n FROM events WHERE type = 'auth.failed'").get()
    expect(stored).toEqual({ n: 4 })
  })

  it('refuses the old password as soon as the device is rotated, even after it was cached', async () => {
    await using t = await startTestHub()
    const old = await addDevice(t.hub.db, 'd1')
    expect(await connackCode(t.mqttUrl, login(old))).toBe(0)
    const fresh = await rotateDeviceCredentials(t.hub.db, 'd1')
    expect(await connackCode(t.mqttUrl, login(old))).toBe(4)
    expect(await connackCode(t.mqttUrl, login(fresh))).toBe(0)
  })

  it('slows down repeated failures from one address, and only from that address', async () => {
    await using t = await startTestHub()
    const creds = await addDevice(t.hub.db, 'd1')
    const timed = async (localAddress: string) => {
      const t0 = performance.now()
      const code = await connackCode(t.mqttUrl, { username: 'd1', password: 'wrong', localAddress })
      return { code, ms: performance.now() - t0 }
    }
    const first = await timed('127.0.0.1')
    const second = await timed('127.0.0.1')
    const third = await timed('127.0.0.1')
    expect([first.code, second.code, third.code]).toEqual([4, 4, 4])
    // Back-off: no delay, then 250 ms, then 500 ms (doubling, capped at 5 s).
    expect(second.ms).toBeGreaterThanOrEqual(240)
    expect(third.ms).toBeGreaterThanOrEqual(490)
    const elsewhere = await timed('127.0.0.2')
    expect(elsewhere.code).toBe(4)
    expect(elsewhere.ms).toBeLessThan(third.ms)
    // A right password is not delayed by someone else's failures.
    expect(await connackCode(t.mqttUrl, login(creds))).toBe(0)
  })
})
