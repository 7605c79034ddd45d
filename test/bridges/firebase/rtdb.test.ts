// The Realtime Database mirror against a local peer speaking the documented REST
// and server-sent-events subset, with OAuth tokens from a local token endpoint.
import { describe, expect, it } from 'bun:test'
import { rtdbMirrorSchema } from '../../../src/bridges/firebase/config.ts'
import type { EventType, HubEvent } from '../../../src/protocol.ts'
import { queryEvents } from '../../../src/store/events.ts'
import { createToken } from '../../../src/store/tokens.ts'
import { addDevice, collect, connect, login, nextMessage } from '../../broker/mqtt-fixture.ts'
import { startTestHub, type TestHub } from '../../helpers/hub.ts'
import { waitFor } from '../../helpers/wait.ts'
import { startOAuthPeer } from './oauth-peer.ts'
import { startRtdbPeer } from './rtdb-peer.ts'

const FAST_OUTBOX = { backoffBase: '10ms', backoffMax: '50ms', breakerCooldown: '20ms' }
/** Test devices may use every topic here. */
const OPEN_ACL = { acl: [{ pattern: '#', access: 'readwrite' }] }

async function apiGet(t: TestHub, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const { secret } = createToken(t.hub.db, { name: `reader-${crypto.randomUUID()}`, scope: 'read' })
  const res = await fetch(`${t.url}/api/v1${path}`, { headers: { authorization: `Bearer ${secret}` } })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

/** Events of one type from the event log, oldest first: also those emitted while the hub started. */
function logged<K extends EventType>(t: TestHub, type: K): HubEvent<K>[] {
  return queryEvents(t.hub.db, { types: [type], limit: 1000 }).items.reverse() as unknown as HubEvent<K>[]
}

describe('the Realtime Database mirror', () => {
  it('mirrors a device’s reported state and status to the database and keeps the tree at /api/v1/firebase/rtdb', async () => {
    await using oauth = await startOAuthPeer()
    await using peer = startRtdbPeer({ accessToken: oauth.accessToken })
    await using t = await startTestHub({
      mqtt: OPEN_ACL,
      firebase: {
        serviceAccount: oauth.serviceAccount,
        rtdb: {
          url: peer.url,
          mirror: [
            { event: 'device.reported', path: 'devices/{{subject}}/state', value: 'detail.reported' },
            { event: 'device.online', path: 'devices/{{subject}}/status', template: 'online' },
            { event: 'device.offline', path: 'devices/{{subject}}/status', template: 'offline' },
            { topic: 'sensors/+/temp', path: 'sensor/{{levels.1}}', value: 'payload', op: 'set', json: true },
          ],
        },
      },
    })
    const lamp = await addDevice(t.hub.db, 'lamp')
    {
      await using c = await connect(t.mqttUrl, { ...login(lamp), clientId: 'lamp' })
      await c.publishAsync('devices/lamp/state', JSON.stringify({ power: 'on', level: 40 }), { qos: 1 })
      await c.publishAsync('sensors/kitchen/temp', '21.5', { qos: 1 })
      await waitFor(() => peer.get('devices/lamp/state') !== null && peer.get('sensor/kitchen') !== null, {
        what: 'the mirrored state',
      })
      expect(peer.get()).toEqual({
        devices: { lamp: { state: { power: 'on', level: 40 }, status: 'online' } },
        sensor: { kitchen: 21.5 },
      })
    }
    await waitFor(() => peer.get('devices/lamp/status') === 'offline', { what: 'the offline status' })

    const { status, body } = await apiGet(t, '/firebase/rtdb')
    expect(status).toBe(200)
    expect(body.value).toEqual({
      devices: { lamp: { state: { power: 'on', level: 40 }, status: 'offline' } },
      sensor: { kitchen: 21.5 },
    })
    expect((await apiGet(t, '/firebase/rtdb?path=devices/lamp/state')).body.value).toEqual({
      power: 'on',
      level: 40,
    })
    const { secret } = createToken(t.hub.db, { name: 'scraper', scope: 'read' })
    const metrics = await (
      await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${secret}` } })
    ).text()
    expect(metrics).toContain('hearth_firebase_up{part="rtdb"} 1')
    // Every request carried the token the service account's signed assertion was traded for.
    expect(oauth.refused).toEqual([])
    expect(oauth.grants.length).toBe(1)
    expect(String(oauth.grants[0]!.scope)).toContain('https://www.googleapis.com/auth/firebase.database')
  })

  it('writes the 9-character appliance command as a string whatever its digits; JSON only when the mapping asks', async () => {
    await using peer = startRtdbPeer({ secret: 'legacy-secret' })
    await using t = await startTestHub({
      mqtt: OPEN_ACL,
      firebase: {
        rtdb: {
          url: peer.url,
          secret: 'legacy-secret',
          mirror: [
            { topic: 'webos/smarthome/info', path: 'smarthome/command/{{levels.2}}' },
            { topic: 'webos/smarthome/last', path: 'smarthome/last', value: 'payload' },
            { topic: 'sensors/+/temp', path: 'sensor/{{levels.1}}', json: true },
          ],
        },
      },
    })
    const dev = await addDevice(t.hub.db, 'panel')
    await using c = await connect(t.mqttUrl, { ...login(dev), clientId: 'panel' })
    await c.publishAsync('webos/smarthome/info', '312145610', { qos: 1 })
    await waitFor(() => peer.writes.length === 1, { what: 'the first command written' })
    await c.publishAsync('webos/smarthome/last', '312145610', { qos: 1 })
    await c.publishAsync('sensors/kitchen/temp', '21.5', { qos: 1 })
    await c.publishAsync('webos/smarthome/info', '012145610', { qos: 1 })
    await waitFor(() => peer.writes.length === 4, { what: 'every write' })
    expect(peer.writes.map((w) => `${w.method} ${w.path} ${JSON.stringify(w.body)}`)).toEqual([
      'PUT smarthome/command/info "312145610"',
      'PUT smarthome/last "312145610"',
      'PUT sensor/kitchen 21.5',
      'PUT smarthome/command/info "012145610"',
    ])
  })

  it('refuses at load a value path into the payload of a mapping that does not parse JSON', () => {
    const parsed = rtdbMirrorSchema.safeParse({ topic: 'sensors/+', path: 'sensor', value: 'payload.temp' })
    expect(parsed.error?.issues.map((i) => i.message)).toEqual([expect.stringContaining('json = true')])
    const json = { topic: 'sensors/+', path: 'sensor', value: 'payload.temp', json: true }
    expect(rtdbMirrorSchema.safeParse(json).success).toBe(true)
  })

  it('queues writes while the database is unreachable and flushes them in order when it returns, the last write per path winning', async () => {
    await using oauth = await startOAuthPeer()
    await using peer = startRtdbPeer({ accessToken: oauth.accessToken })
    await using t = await startTestHub({
      mqtt: OPEN_ACL,
      outbox: FAST_OUTBOX,
      firebase: {
        serviceAccount: oauth.serviceAccount,
        rtdb: {
          url: peer.url,
          mirror: [
            { topic: 'seq/+', path: 'seq/{{levels.1}}', value: 'text' },
            { topic: 'sensor/x', path: 'sensor/x', value: 'payload', json: true },
            { topic: 'flags', path: 'flags', op: 'update', json: true },
          ],
        },
      },
    })
    const failed = collect(t, 'delivery.failed')
    const status = collect(t, 'firebase.status')
    const dev = await addDevice(t.hub.db, 'dev')
    await using c = await connect(t.mqttUrl, { ...login(dev), clientId: 'dev' })
    // A first write while it is up, so the token is fetched and the database known reachable.
    await c.publishAsync('seq/0', 'zero', { qos: 1 })
    await waitFor(() => peer.writes.length === 1, { what: 'the first write' })

    await peer.stop()
    for (const [topic, payload] of [
      ['seq/1', 'one'],
      ['sensor/x', '1'],
      ['seq/2', 'two'],
      ['sensor/x', '2'],
      ['flags', '{"a": true}'],
      ['seq/3', 'three'],
      ['flags', '{"b": true}'],
      ['sensor/x', '3'],
    ] as const)
      await c.publishAsync(topic, payload, { qos: 1 })
    await waitFor(() => failed.length >= 2, { what: 'failed attempts while the database is down' })
    // Local first: the hub's copy has every write already.
    expect((await apiGet(t, '/firebase/rtdb')).body.value).toEqual({
      seq: { '0': 'zero', '1': 'one', '2': 'two', '3': 'three' },
      sensor: { x: 3 },
      flags: { a: true, b: true },
    })
    const queued = await apiGet(t, '/outbox?kind=firebase-rtdb')
    expect((queued.body.items as unknown[]).length).toBe(8)
    expect(status.map((e) => e.detail.state)).toEqual(['up', 'down'])

    peer.start()
    await waitFor(
      () =>
        (
          t.hub.db.query(`SELECT count(*) AS n FROM outbox WHERE kind = 'firebase-rtdb'`).get() as {
            n: number
          }
        ).n === 0,
      { what: 'the backlog flushed' },
    )
    expect(peer.writes.map((w) => `${w.method} ${w.path} ${JSON.stringify(w.body)}`)).toEqual([
      'PUT seq/0 "zero"',
      'PUT seq/1 "one"',
      'PUT seq/2 "two"',
      'PATCH flags {"a":true}',
      'PUT seq/3 "three"',
      'PATCH flags {"b":true}',
      'PUT sensor/x 3',
    ])
    expect(peer.get()).toEqual((await apiGet(t, '/firebase/rtdb')).body.value)
    expect(status.map((e) => e.detail.state)).toEqual(['up', 'down', 'up'])
  })

  it('turns changes on a listened path into events and MQTT publishes, and ignores the echo of its own writes', async () => {
    await using peer = startRtdbPeer({ secret: 'legacy-secret' })
    peer.set('smarthome/control', '000000000')
    await using t = await startTestHub({
      mqtt: OPEN_ACL,
      firebase: {
        rtdb: {
          url: peer.url,
          secret: 'legacy-secret',
          mirror: [{ topic: 'data/smarthome', path: 'smarthome/status', value: 'text' }],
          listen: [{ path: 'smarthome', topic: 'home/{{path}}', qos: 1 }],
        },
      },
    })
    const changed = () => logged(t, 'firebase.rtdb.changed')
    await waitFor(() => peer.openStreams() === 1, { what: 'the stream' })
    // The initial snapshot is news to an empty local copy.
    await waitFor(() => changed().length === 1, { what: 'the snapshot' })
    expect(changed()[0]!.detail).toEqual({ path: 'smarthome', op: 'put', data: { control: '000000000' } })

    const dev = await addDevice(t.hub.db, 'panel')
    await using c = await connect(t.mqttUrl, { ...login(dev), clientId: 'panel' })
    await c.subscribeAsync('home/smarthome/control', { qos: 1 })
    // The hub's own write comes back on the stream and equals the local copy: no event.
    await c.publishAsync('data/smarthome', '012345678', { qos: 1 })
    await waitFor(() => peer.get('smarthome/status') === '012345678', { what: 'the mirror write' })

    const message = nextMessage(c, 'home/smarthome/control')
    peer.set('smarthome/control', '112300011')
    expect((await message).payload).toBe('112300011')
    await waitFor(() => changed().length === 2, { what: 'the change event' })
    expect(changed().map((e) => e.detail)).toEqual([
      { path: 'smarthome', op: 'put', data: { control: '000000000' } },
      { path: 'smarthome/control', op: 'put', data: '112300011' },
    ])
    expect((await apiGet(t, '/firebase/rtdb?path=smarthome')).body.value).toEqual({
      control: '112300011',
      status: '012345678',
    })
  })

  it('restarts a listener whose stream the database refuses, with back-off, until it streams again', async () => {
    await using peer = startRtdbPeer()
    peer.refuseStreams = true
    await using t = await startTestHub(
      { firebase: { rtdb: { url: peer.url, listen: [{ path: 'smarthome' }] } } },
      { backoff: { initialMs: 10, maxMs: 2000, stableMs: 60_000 } },
    )
    const failed = () => logged(t, 'service.failed')
    const restarted = () => logged(t, 'service.restarted')
    await waitFor(() => failed().length >= 3, { what: 'repeated failures' })
    const first = failed().slice(0, 3)
    expect(first.map((e) => [e.detail.service, e.detail.attempt, e.detail.retryInMs])).toEqual([
      ['firebase-rtdb-listen:smarthome', 1, 10],
      ['firebase-rtdb-listen:smarthome', 2, 20],
      ['firebase-rtdb-listen:smarthome', 3, 40],
    ])
    expect(first[0]!.detail.error).toContain('HTTP 503')

    peer.refuseStreams = false
    await waitFor(() => peer.openStreams() === 1, { what: 'the stream back' })
    await waitFor(() => restarted().length >= 1, { what: 'the restart' })
    expect(t.fatal).toBeUndefined()
  })
})
