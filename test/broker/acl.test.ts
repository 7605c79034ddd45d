import { describe, expect, it } from 'bun:test'
import { createAcl } from '../../src/broker/acl.ts'
import { createAuth } from '../../src/broker/auth.ts'
import { createBroker } from '../../src/broker/broker.ts'
import { createTcpListener } from '../../src/broker/tcp-listener.ts'
import { createBus } from '../../src/bus/bus.ts'
import { setDeviceAclRule } from '../../src/devices/acl-rules.ts'
import { deviceDirectory } from '../../src/devices/directory.ts'
import { silentLogger } from '../../src/log.ts'
import { openStore } from '../../src/store/open.ts'
import { startTestHub, tempDir } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'
import { addDevice, collect, connect, login, nextMessage } from './mqtt-fixture.ts'

/** The granted QoS of each filter, 128 for a refused one [MQTT-3.9.3]. */
async function granted(client: Awaited<ReturnType<typeof connect>>, filters: string[]): Promise<number[]> {
  const out: number[] = []
  for (const topic of filters) {
    // mqtt.js rejects a SUBACK holding 0x80; the packet is on the error.
    const codes = await client.subscribeAsync(topic, { qos: 1 }).then(
      (res) => res.map((g) => g.qos),
      (err: { packet?: { granted?: number[] } }) => err.packet?.granted ?? [-1],
    )
    out.push(codes[0] ?? -1)
  }
  return out
}

describe('broker ACL', () => {
  it('lets a device use its own subtree and refuses subscriptions reaching beyond it with SUBACK 0x80', async () => {
    await using t = await startTestHub()
    await using c = await connect(t.mqttUrl, login(await addDevice(t.hub.db, 'd1')))
    const denied = collect(t, 'acl.denied')
    expect(
      await granted(c, [
        'devices/d1/#',
        'devices/d1/+/x',
        'devices/d1',
        '#',
        'devices/+/x',
        'devices/d2/state',
        '$SYS/#',
      ]),
    ).toEqual([1, 1, 1, 128, 128, 128, 128])
    expect(denied.map((e) => [e.subject, e.detail.action, e.detail.topic])).toEqual([
      ['d1', 'subscribe', '#'],
      ['d1', 'subscribe', 'devices/+/x'],
      ['d1', 'subscribe', 'devices/d2/state'],
      ['d1', 'subscribe', '$SYS/#'],
    ])
    const got = nextMessage(c, 'devices/d1/state')
    await c.publishAsync('devices/d1/state', 'on', { qos: 1 })
    expect((await got).payload).toBe('on')
  })

  it('acknowledges and drops a denied PUBLISH, records it, and keeps the client connected', async () => {
    await using t = await startTestHub()
    const admin = await addDevice(t.hub.db, 'watcher')
    setDeviceAclRule(t.hub.db, 'watcher', { pattern: 'devices/#', access: 'read' })
    await using w = await connect(t.mqttUrl, login(admin))
    await w.subscribeAsync('devices/#', { qos: 1 })
    await using c = await connect(t.mqttUrl, login(await addDevice(t.hub.db, 'd1')))
    const denied = collect(t, 'acl.denied')
    const seen: string[] = []
    w.on('message', (topic) => {
      // devices/<id>/status is the hub's availability topic, published on every connect.
      if (!topic.endsWith('/status')) seen.push(topic)
    })
    // QoS 1 and 2: the hub must acknowledge [MQTT-3.3.5-2]; the promises resolve on PUBACK / PUBCOMP.
    await c.publishAsync('devices/d2/state', 'spoofed', { qos: 1, retain: true })
    await c.publishAsync('devices/d2/state', 'spoofed', { qos: 2 })
    await c.publishAsync('elsewhere', 'x', { qos: 0 })
    // A message published after the denied ones arrives; the denied ones, published first, never did.
    const marker = nextMessage(w, 'devices/d1/marker')
    await c.publishAsync('devices/d1/marker', 'after', { qos: 1 })
    await marker
    expect(seen).toEqual(['devices/d1/marker'])
    expect(c.connected).toBe(true)
    expect(denied.map((e) => e.detail)).toEqual([
      {
        device: 'd1',
        clientId: c.options.clientId!,
        action: 'publish',
        topic: 'devices/d2/state',
        disconnected: false,
      },
      {
        device: 'd1',
        clientId: c.options.clientId!,
        action: 'publish',
        topic: 'elsewhere',
        disconnected: false,
      },
    ])
    // The denied retained message was not stored: a new subscriber gets nothing retained.
    await using late = await connect(t.mqttUrl, login(admin))
    const retained: string[] = []
    late.on('message', (topic) => retained.push(topic))
    await late.subscribeAsync('devices/d2/state', { qos: 1 })
    await late.publishAsync('devices/watcher/ping', 'x', { qos: 1 })
    expect(retained).toEqual([])
  })

  it('withdraws a will the device may not publish, recording the denial when the device connects', async () => {
    await using t = await startTestHub()
    const watcher = await addDevice(t.hub.db, 'watcher')
    setDeviceAclRule(t.hub.db, 'watcher', { pattern: 'devices/d2/#', access: 'read' })
    await using w = await connect(t.mqttUrl, login(watcher))
    await w.subscribeAsync('devices/d2/#', { qos: 1 })
    const seen: string[] = []
    w.on('message', (topic) => seen.push(topic))
    const denied = collect(t, 'acl.denied')
    const offline = collect(t, 'device.offline')
    const d1 = await connect(t.mqttUrl, {
      ...login(await addDevice(t.hub.db, 'd1')),
      will: { topic: 'devices/d2/state', payload: Buffer.from('spoofed'), qos: 1, retain: false },
    })
    await waitFor(() => denied.length > 0, { what: 'acl.denied' })
    expect(denied[0]?.detail).toMatchObject({ device: 'd1', action: 'publish', topic: 'devices/d2/state' })
    // Dies without DISCONNECT: a will it was allowed would be published now.
    d1.stream.destroy()
    await waitFor(() => offline.some((e) => e.subject === 'd1'), { what: 'd1 offline' })
    const marker = nextMessage(w, 'devices/d2/marker')
    void t.hub.broker.publish({ topic: 'devices/d2/marker', payload: 'x', qos: 1 })
    await marker
    expect(seen).toEqual(['devices/d2/marker'])
  })

  it('disconnects a client whose PUBLISH is denied when mqtt.disconnectOnDenied is set', async () => {
    await using t = await startTestHub({ mqtt: { disconnectOnDenied: true } })
    await using c = await connect(t.mqttUrl, login(await addDevice(t.hub.db, 'd1')))
    const denied = collect(t, 'acl.denied')
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()))
    c.publish('devices/d2/state', 'x', { qos: 0 })
    await closed
    expect(denied.map((e) => [e.detail.topic, e.detail.disconnected])).toEqual([['devices/d2/state', true]])
  })

  it('never lets a device publish to $SYS, even with a rule that allows it', async () => {
    await using t = await startTestHub({ mqtt: { acl: [{ pattern: '$SYS/#', access: 'readwrite' }] } })
    await using c = await connect(t.mqttUrl, login(await addDevice(t.hub.db, 'd1')))
    const denied = collect(t, 'acl.denied')
    expect(await granted(c, ['$SYS/broker/#'])).toEqual([1])
    await c.publishAsync('$SYS/broker/fake', 'x', { qos: 1 })
    expect(denied.map((e) => [e.detail.action, e.detail.topic])).toEqual([['publish', '$SYS/broker/fake']])
  })

  it('applies mqtt.acl rules with %u and %c to every device and per-device rules from the registry', async () => {
    await using t = await startTestHub({
      mqtt: {
        acl: [
          { pattern: 'clients/%c/#', access: 'readwrite' },
          { pattern: 'shared/%u/in', access: 'write' },
          { pattern: 'announcements/#', access: 'read' },
        ],
      },
    })
    const d1 = await addDevice(t.hub.db, 'd1')
    setDeviceAclRule(t.hub.db, 'd1', { pattern: 'home/+/light', access: 'readwrite' })
    await using c = await connect(t.mqttUrl, { ...login(d1), clientId: 'esp-42' })
    expect(
      await granted(c, [
        'clients/esp-42/#',
        'clients/other/#',
        'shared/d1/in',
        'announcements/+',
        'home/kitchen/light',
      ]),
    ).toEqual([1, 128, 128, 1, 1])
    const denied = collect(t, 'acl.denied')
    await c.publishAsync('shared/d1/in', 'x', { qos: 1 })
    await c.publishAsync('announcements/all', 'x', { qos: 1 })
    await c.publishAsync('home/kitchen/light', 'x', { qos: 1 })
    expect(denied.map((e) => e.detail.topic)).toEqual(['announcements/all'])
  })

  it('gives anonymous clients only mqtt.anonymousAcl, where %u never applies', async () => {
    await using t = await startTestHub({
      mqtt: {
        allowAnonymous: true,
        anonymousAcl: [
          { pattern: 'public/#', access: 'read' },
          { pattern: 'devices/%u/#', access: 'readwrite' },
        ],
      },
    })
    await using c = await connect(t.mqttUrl)
    expect(await granted(c, ['public/news', 'devices/#', 'devices/+/x', '#'])).toEqual([1, 128, 128, 128])
  })

  it('always delivers the hub’s own publishes', async () => {
    await using t = await startTestHub()
    await using c = await connect(t.mqttUrl, login(await addDevice(t.hub.db, 'd1')))
    await c.subscribeAsync('devices/d1/cmd', { qos: 1 })
    const got = nextMessage(c, 'devices/d1/cmd')
    void t.hub.broker.publish({ topic: 'devices/d1/cmd', payload: 'go', qos: 1 })
    expect((await got).payload).toBe('go')
  })

  it('asks rule providers for extra per-device rules (the hook for group-derived rules)', async () => {
    using dir = tempDir()
    const { db } = openStore(dir.path)
    const log = silentLogger()
    const bus = createBus(log)
    const auth = createAuth({ db, bus, log, allowAnonymous: false, devices: deviceDirectory })
    const acl = createAcl({
      db,
      bus,
      log,
      identityOf: auth.identityOf,
      rules: [],
      anonymousRules: [],
      disconnectOnDenied: false,
      devices: deviceDirectory,
    })
    acl.addProvider((id) => (id === 'd1' ? [{ pattern: 'groups/lights/#', access: 'read' }] : []))
    const broker = createBroker({ log, plugins: [auth, acl] })
    const tcp = createTcpListener({ broker, log, host: '127.0.0.1', port: 0 })
    const ctx = { signal: new AbortController().signal, fail: () => {} }
    await broker.start(ctx)
    await tcp.start(ctx)
    try {
      const creds = await addDevice(db, 'd1')
      await using c = await connect(`mqtt://127.0.0.1:${tcp.port}`, login(creds))
      expect(await granted(c, ['groups/lights/#', 'groups/heating/#'])).toEqual([1, 128])
    } finally {
      await tcp.stop()
      await broker.stop()
      db.close()
    }
  })

  it('re-reads per-device rules added while the device is connected', async () => {
    await using t = await startTestHub()
    await using c = await connect(t.mqttUrl, login(await addDevice(t.hub.db, 'd1')))
    expect(await granted(c, ['rooms/kitchen'])).toEqual([128])
    setDeviceAclRule(t.hub.db, 'd1', { pattern: 'rooms/+', access: 'read' })
    await waitFor(async () => (await granted(c, ['rooms/kitchen']))[0] === 1, { what: 'the new rule' })
  })
})
