import { describe, expect, it } from 'bun:test'
import { mergeState, stateDelta } from '../../src/devices/state-store.ts'
import { addDevice, collect, nextMessage } from '../broker/mqtt-fixture.ts'
import { startTestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'
import { api, connectDevice, device } from './support.ts'

describe('desired vs reported state', () => {
  it('merges like a device shadow: objects key by key, null removes', () => {
    expect(mergeState({ a: 1, b: { x: 1, y: 2 }, c: 3 }, { b: { y: null, z: 3 }, c: null, d: [1] })).toEqual({
      a: 1,
      b: { x: 1, z: 3 },
      d: [1],
    })
    expect(
      stateDelta(
        { power: 'on', light: { level: 5, color: 'red' }, list: [1, 2] },
        { power: 'on', light: { level: 3, color: 'red' }, list: [1, 2] },
      ),
    ).toEqual({
      light: { level: 5 },
    })
  })

  it('publishes the delta to devices/<id>/set, stays pending until the device reports it, then converges', async () => {
    await using t = await startTestHub()
    const a = api(t)
    await using d1 = await device(t, 'd1', { subscribe: ['devices/d1/set'] })
    const converged = collect(t, 'device.converged')
    const set = nextMessage(d1.client, 'devices/d1/set')
    const patched = await a.patch('/devices/d1/state', { desired: { power: 'on', level: 5 } })
    expect(patched.status).toBe(200)
    expect(patched.body).toEqual({
      deviceId: 'd1',
      reported: {},
      reportedVersion: 0,
      reportedAt: null,
      desired: { power: 'on', level: 5 },
      desiredVersion: 1,
      desiredAt: expect.any(Number),
      delta: { power: 'on', level: 5 },
      pending: true,
      sentAt: expect.any(Number),
      deadline: expect.any(Number),
      timedOutAt: null,
    })
    expect(JSON.parse((await set).payload)).toEqual({ power: 'on', level: 5 })

    await d1.client.publishAsync('devices/d1/state', JSON.stringify({ power: 'on', rssi: -60 }), { qos: 1 })
    const half = await waitFor(async () => {
      const s = (await a.get('/devices/d1/state')).body
      return s.reportedVersion === 1 && s
    })
    expect(half).toMatchObject({ pending: true, delta: { level: 5 }, reported: { power: 'on', rssi: -60 } })

    await d1.client.publishAsync('devices/d1/state', JSON.stringify({ level: 5 }), { qos: 1 })
    await waitFor(() => converged.length === 1)
    expect(converged[0]!.detail).toEqual({
      device: 'd1',
      desiredVersion: 1,
      reportedVersion: 2,
      ms: expect.any(Number),
    })
    expect((await a.get('/devices/d1/state')).body).toMatchObject({
      pending: false,
      delta: {},
      deadline: null,
      reported: { power: 'on', rssi: -60, level: 5 },
      reportedVersion: 2,
    })
  })

  it('raises device.convergence_timeout when the device does not report the desired state in time', async () => {
    await using t = await startTestHub({ devices: { convergenceTimeout: 200 } })
    const a = api(t)
    await addDevice(t.hub.db, 'slow')
    const timeouts = collect(t, 'device.convergence_timeout')
    await a.patch('/devices/slow/state', { desired: { power: 'off' } })
    await waitFor(() => timeouts.length === 1, { what: 'the convergence timeout' })
    expect(timeouts[0]!.detail).toEqual({
      device: 'slow',
      desiredVersion: 1,
      delta: { power: 'off' },
      waitedMs: expect.any(Number),
    })
    expect(timeouts[0]!.detail.waitedMs).toBeGreaterThanOrEqual(200)
    expect((await a.get('/devices/slow/state')).body).toMatchObject({
      pending: true,
      timedOutAt: expect.any(Number),
    })
  })

  it('sends a device that was away what it still has to do when it subscribes', async () => {
    await using t = await startTestHub()
    const creds = await addDevice(t.hub.db, 'away')
    await api(t).patch('/devices/away/state', { desired: { mode: 'eco' } })
    await using d = await connectDevice(t, creds, { subscribe: ['devices/away/set'] })
    await waitFor(() => d.messages.some((m) => m.topic === 'devices/away/set'))
    expect(d.messages.map((m) => JSON.parse(m.payload))).toEqual([{ mode: 'eco' }])
  })

  it('takes reported state from ingest too', async () => {
    await using t = await startTestHub()
    const creds = await addDevice(t.hub.db, 'pi-1')
    const res = await fetch(`${t.url}/ingest/pi-1`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`,
      },
      body: JSON.stringify({ no2: 52, window: 'open' }),
    })
    expect(res.status).toBe(202)
    const s = await waitFor(async () => {
      const body = (await api(t, 'read').get('/devices/pi-1/state')).body
      return body.reportedVersion === 1 && body
    })
    expect(s.reported).toEqual({ no2: 52, window: 'open' })
  })

  it('carries out the setDesired action of rules and schedules', async () => {
    await using t = await startTestHub()
    await using d1 = await device(t, 'd1', { subscribe: ['devices/d1/set'] })
    const set = nextMessage(d1.client, 'devices/d1/set')
    const result = await t.hub.actions.run(
      { type: 'setDesired', device: '{{device}}', state: { heater: true } },
      { source: 'rule:cold', data: { device: 'd1' } },
    )
    expect(result).toMatchObject({ ok: true, detail: { device: 'd1', version: 1, pending: true } })
    expect(JSON.parse((await set).payload)).toEqual({ heater: true })
    const desired = t.hub.db.query("SELECT detail FROM events WHERE type = 'device.desired'").get() as {
      detail: string
    }
    expect(JSON.parse(desired.detail)).toMatchObject({ device: 'd1', source: 'rule:cold' })
    const missing = await t.hub.actions.run(
      { type: 'setDesired', device: 'ghost', state: { heater: true } },
      { source: 'rule:cold' },
    )
    expect(missing).toMatchObject({ ok: false, error: 'no device "ghost"' })
  })

  it('answers an unknown device with 40401 and a desired state that is not an object with 40002', async () => {
    await using t = await startTestHub()
    const a = api(t)
    await addDevice(t.hub.db, 'd1')
    expect((await a.get('/devices/ghost/state')).body.code).toBe(40401)
    expect((await a.patch('/devices/ghost/state', { desired: { a: 1 } })).body.code).toBe(40401)
    expect((await a.patch('/devices/d1/state', { desired: [1] })).body.code).toBe(40002)
    expect((await api(t, 'read').patch('/devices/d1/state', { desired: { a: 1 } })).body.code).toBe(40301)
  })
})
