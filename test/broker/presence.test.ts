import { describe, expect, it } from 'bun:test'
import { createConnection, type Socket } from 'node:net'
import { setDeviceAclRule } from '../../src/devices/acl-rules.ts'
import { getDevice } from '../../src/devices/registry.ts'
import { openDatabase } from '../../src/store/open.ts'
import { startTestHub, type TestHub, tempDir } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'
import { addDevice, collect, connect, login, nextMessage } from './mqtt-fixture.ts'

/** A hand-made MQTT 3.1.1 CONNECT, so the test controls keepalive and can misbehave afterwards. */
function connectPacket(o: {
  clientId: string
  username: string
  password: string
  keepalive: number
}): Buffer {
  const str = (s: string) => {
    const b = Buffer.from(s)
    return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b])
  }
  const flags = 0x80 | 0x40 | 0x02 // username, password, clean session
  const body = Buffer.concat([
    str('MQTT'),
    Buffer.from([4, flags, o.keepalive >> 8, o.keepalive & 0xff]),
    str(o.clientId),
    str(o.username),
    str(o.password),
  ])
  return Buffer.concat([Buffer.from([0x10, body.length]), body])
}

/** A raw TCP connection that has received CONNACK 0. */
async function rawClient(
  t: TestHub,
  o: { clientId: string; username: string; password: string; keepalive: number },
): Promise<Socket & Disposable> {
  const socket = createConnection({ host: '127.0.0.1', port: t.mqttPort })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => socket.write(connectPacket(o)))
    socket.once('data', (d) =>
      d[0] === 0x20 && d[3] === 0 ? resolve() : reject(new Error(`CONNACK ${d[3]}`)),
    )
    socket.once('error', reject)
  })
  return Object.assign(socket, { [Symbol.dispose]: () => socket.destroy() })
}

describe('device presence', () => {
  it('reports a device online and offline, persists it and keeps a retained availability topic', async () => {
    await using t = await startTestHub()
    const watcherCreds = await addDevice(t.hub.db, 'watcher')
    setDeviceAclRule(t.hub.db, 'watcher', { pattern: 'devices/+/status', access: 'read' })
    const d1 = await addDevice(t.hub.db, 'd1')
    const online = collect(t, 'device.online')
    const offline = collect(t, 'device.offline')
    await using w = await connect(t.mqttUrl, login(watcherCreds))
    await w.subscribeAsync('devices/d1/status', { qos: 1 })

    const up = nextMessage(w, 'devices/d1/status')
    const c = await connect(t.mqttUrl, { ...login(d1), clientId: 'd1-main' })
    expect(await up).toEqual({ payload: 'online', retain: false, qos: 1 })
    expect(online.filter((e) => e.subject === 'd1').map((e) => e.detail)).toEqual([
      { device: 'd1', clientId: 'd1-main', address: '127.0.0.1' },
    ])
    expect(getDevice(t.hub.db, 'd1')).toMatchObject({ online: true, lastClientId: 'd1-main' })

    const down = nextMessage(w, 'devices/d1/status')
    await c.endAsync()
    expect((await down).payload).toBe('offline')
    expect(offline.map((e) => e.detail)).toEqual([
      { device: 'd1', clientId: 'd1-main', reason: 'disconnect' },
    ])
    expect(getDevice(t.hub.db, 'd1')).toMatchObject({ online: false, lastDisconnectReason: 'disconnect' })
    expect(getDevice(t.hub.db, 'd1')?.lastSeen).toBeGreaterThan(0)

    // Retained: a subscriber arriving later learns the state at once.
    await using late = await connect(t.mqttUrl, login(watcherCreds))
    const retained = nextMessage(late, 'devices/d1/status')
    await late.subscribeAsync('devices/d1/status', { qos: 1 })
    expect(await retained).toEqual({ payload: 'offline', retain: true, qos: 1 })
  })

  it('says "keepalive timeout" when a device stops talking', async () => {
    await using t = await startTestHub()
    const d1 = await addDevice(t.hub.db, 'd1')
    const offline = collect(t, 'device.offline')
    using _socket = await rawClient(t, {
      clientId: 'k1',
      username: d1.username,
      password: d1.password,
      keepalive: 1,
    })
    // [MQTT-3.1.2-24] the server closes after 1.5 × keepalive without a packet.
    await waitFor(() => offline.length > 0, { what: 'device.offline' })
    expect(offline[0]?.detail).toEqual({ device: 'd1', clientId: 'k1', reason: 'keepalive timeout' })
  })

  it('says "connection lost" when the socket closes without DISCONNECT', async () => {
    await using t = await startTestHub()
    const d1 = await addDevice(t.hub.db, 'd1')
    const offline = collect(t, 'device.offline')
    const socket = await rawClient(t, {
      clientId: 'l1',
      username: d1.username,
      password: d1.password,
      keepalive: 60,
    })
    socket.end()
    await waitFor(() => offline.length > 0, { what: 'device.offline' })
    expect(offline[0]?.detail.reason).toBe('connection lost')
  })

  it('says "error" when a device sends a malformed packet', async () => {
    await using t = await startTestHub()
    const d1 = await addDevice(t.hub.db, 'd1')
    const offline = collect(t, 'device.offline')
    using socket = await rawClient(t, {
      clientId: 'e1',
      username: d1.username,
      password: d1.password,
      keepalive: 60,
    })
    // A PUBLISH whose topic length runs past the packet.
    socket.write(Buffer.from([0x30, 0x02, 0xff, 0xff]))
    await waitFor(() => offline.length > 0, { what: 'device.offline' })
    expect(offline[0]?.detail.reason).toBe('error')
    expect(getDevice(t.hub.db, 'd1')?.lastDisconnectReason).toBe('error')
  })

  it('says "taken over" when another connection uses the same client id [MQTT-3.1.4-2]', async () => {
    await using t = await startTestHub()
    const d1 = await addDevice(t.hub.db, 'd1')
    const online = collect(t, 'device.online')
    const offline = collect(t, 'device.offline')
    await using first = await connect(t.mqttUrl, { ...login(d1), clientId: 'same' })
    const closed = new Promise<void>((resolve) => first.once('close', () => resolve()))
    await using second = await connect(t.mqttUrl, { ...login(d1), clientId: 'same' })
    await closed
    await waitFor(() => online.length === 2, { what: 'second device.online' })
    expect(offline.map((e) => e.detail)).toEqual([{ device: 'd1', clientId: 'same', reason: 'taken over' }])
    expect(second.connected).toBe(true)
    expect(getDevice(t.hub.db, 'd1')?.online).toBe(true)
  })

  it('keeps a device online while any of its connections lasts', async () => {
    await using t = await startTestHub()
    const d1 = await addDevice(t.hub.db, 'd1')
    const online = collect(t, 'device.online')
    const offline = collect(t, 'device.offline')
    await using a = await connect(t.mqttUrl, { ...login(d1), clientId: 'a' })
    const b = await connect(t.mqttUrl, { ...login(d1), clientId: 'b' })
    await b.endAsync()
    // a still connected: a round trip through the broker shows no offline event came in between.
    await a.publishAsync('devices/d1/ping', 'x', { qos: 1 })
    expect(online.length).toBe(1)
    expect(offline).toEqual([])
    expect(getDevice(t.hub.db, 'd1')?.online).toBe(true)
  })

  it('publishes no availability topic when mqtt.availabilityTopic is false', async () => {
    await using t = await startTestHub({ mqtt: { availabilityTopic: false } })
    const d1 = await addDevice(t.hub.db, 'd1')
    await using c = await connect(t.mqttUrl, login(d1))
    const seen: string[] = []
    c.on('message', (topic) => seen.push(topic))
    await c.subscribeAsync('devices/d1/#', { qos: 1 })
    await c.publishAsync('devices/d1/ping', 'x', { qos: 1 })
    await waitFor(() => seen.includes('devices/d1/ping'))
    expect(seen).toEqual(['devices/d1/ping'])
  })

  it('marks devices offline when the hub stops, and stale online flags offline when it starts', async () => {
    using dir = tempDir()
    {
      await using t = await startTestHub({}, { dataDir: dir.path })
      const d1 = await addDevice(t.hub.db, 'd1')
      await addDevice(t.hub.db, 'd2')
      const c = await connect(t.mqttUrl, login(d1))
      await waitFor(() => getDevice(t.hub.db, 'd1')?.online)
      await t.stop()
      await c.endAsync(true)
    }
    const db = openDatabase(`${dir.path}/hearth.db`)
    expect(getDevice(db, 'd1')).toMatchObject({ online: false, lastDisconnectReason: 'hub stopped' })
    // What a crash leaves behind: a device still flagged online.
    db.run("UPDATE devices SET online = 1 WHERE id = 'd2'")
    db.close()
    await using t = await startTestHub({}, { dataDir: dir.path })
    expect(getDevice(t.hub.db, 'd2')).toMatchObject({ online: false, lastDisconnectReason: 'hub restarted' })
    const logged = t.hub.db
      .query("SELECT subject, detail FROM events WHERE type = 'device.offline' ORDER BY id")
      .all() as { subject: string; detail: string }[]
    expect(logged.map((r) => [r.subject, JSON.parse(r.detail).reason])).toEqual([
      ['d1', 'hub stopped'],
      ['d2', 'hub restarted'],
    ])
  })
})
