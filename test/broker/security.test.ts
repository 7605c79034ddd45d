import { describe, expect, it } from 'bun:test'
import { type Socket, connect as tcpConnect } from 'node:net'
import type { MqttClient } from 'mqtt'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { setDeviceAclRule } from '../../src/devices/acl-rules.ts'
import { createToken } from '../../src/store/tokens.ts'
import { startTestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'
import { addDevice, collect, connackCode, connect, login, nextMessage } from './mqtt-fixture.ts'
import { connectPacket } from './raw-mqtt.ts'

// What an independent attack campaign found in the Aedes-era broker, each played against the hub
// with real clients. docs/mqtt.md and docs/mqtt-limits.md describe the behaviour.

/** A raw TCP socket that only counts as "closed" once the hub closed it. */
function idleSocket(port: number, localAddress?: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) })
    const closed = new Promise<void>((done) => socket.once('close', () => done()))
    socket.once('connect', () => resolve({ socket, closed }))
    socket.once('error', reject)
  })
}

/** Collects message payloads into `received`, from before CONNACK (a session's queue comes with it). */
const into = (received: string[]) => (c: MqttClient) =>
  c.on('message', (_topic, payload) => received.push(payload.toString()))

describe('sessions belong to the identity that made them', () => {
  it("refuses device B a client id whose persistent session is device A's, records it, and keeps A connected", async () => {
    await using t = await startTestHub()
    const a = await addDevice(t.hub.db, 'a')
    const b = await addDevice(t.hub.db, 'b')
    const failed = collect(t, 'auth.failed')
    // A's persistent session with a queued message waiting for it.
    {
      await using first = await connect(t.mqttUrl, { ...login(a), clientId: 'a-session', clean: false })
      await first.subscribeAsync('devices/a/inbox', { qos: 1 })
    }
    await t.hub.broker.publish({ topic: 'devices/a/inbox', payload: 'for a only', qos: 1 })
    expect(await connackCode(t.mqttUrl, { ...login(b), clientId: 'a-session', clean: false })).toBe(5)
    expect(await connackCode(t.mqttUrl, { ...login(b), clientId: 'a-session', protocolVersion: 5 })).toBe(
      0x87,
    )
    expect(failed.map((e) => [e.detail.clientId, e.detail.reason])).toEqual([
      ['a-session', 'session of another identity'],
      ['a-session', 'session of another identity'],
    ])
    // A gets its queued message; while A is connected, B's attempt does not kick it.
    const received: string[] = []
    await using back = await connect(
      t.mqttUrl,
      { ...login(a), clientId: 'a-session', clean: false },
      into(received),
    )
    await waitFor(() => received.includes('for a only'), { what: 'the queued message' })
    expect(await connackCode(t.mqttUrl, { ...login(b), clientId: 'a-session', clean: false })).toBe(5)
    const after = nextMessage(back, 'devices/a/inbox')
    await t.hub.broker.publish({ topic: 'devices/a/inbox', payload: 'still here', qos: 1 })
    expect((await after).payload).toBe('still here')
    expect(back.connected).toBe(true)
  })
})

describe('MQTT over WebSocket', () => {
  it('handles a QoS 1 PUBLISH and a SUBSCRIBE sent right after CONNECT, before CONNACK, in order', async () => {
    await using t = await startTestHub()
    const d = await addDevice(t.hub.db, 'ws-dev')
    await using watcher = await connect(t.mqttUrl, login(await addDevice(t.hub.db, 'watcher')))
    // The watcher may read what ws-dev publishes.
    setDeviceAclRule(t.hub.db, 'watcher', { pattern: 'devices/ws-dev/#', access: 'read' })
    await watcher.subscribeAsync('devices/ws-dev/#', { qos: 1 })
    const seen = nextMessage(watcher, 'devices/ws-dev/state')

    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/mqtt`, 'mqtt')
    ws.binaryType = 'arraybuffer'
    const got: Packet[] = []
    const parser = mqttPacket.parser({ protocolVersion: 4 })
    parser.on('packet', (p) => got.push(p))
    ws.onmessage = (e) => parser.parse(Buffer.from(e.data as ArrayBuffer))
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve()
      ws.onerror = () => reject(new Error('websocket failed'))
    })
    // All three in one go: the hub answers CONNACK only after the password check.
    const frames = [
      connectPacket('ws-dev-1', { username: d.username, password: Buffer.from(d.password) }),
      {
        cmd: 'publish',
        topic: 'devices/ws-dev/state',
        payload: Buffer.from('on'),
        qos: 1,
        messageId: 1,
        retain: false,
        dup: false,
      } as Packet,
      { cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'devices/ws-dev/cmd', qos: 1 }] } as Packet,
    ]
    for (const f of frames) ws.send(new Uint8Array(mqttPacket.generate(f)))
    await waitFor(() => got.length >= 3, { what: 'CONNACK, PUBACK and SUBACK' })
    expect(got.map((p) => p.cmd)).toEqual(['connack', 'puback', 'suback'])
    expect((got[2] as mqttPacket.ISubackPacket).granted).toEqual([1])
    expect((await seen).payload).toBe('on')
    ws.close()
  })
})

describe('sockets that never say CONNECT', () => {
  it('closes them after mqtt.connectTimeout and caps them per address, so devices elsewhere still get in', async () => {
    await using t = await startTestHub({
      mqtt: { connectTimeout: '1500ms', maxPendingConnectionsPerAddress: 4, maxConnections: 10 },
    })
    const d = await addDevice(t.hub.db, 'd1')
    const idle = await Promise.all(Array.from({ length: 8 }, () => idleSocket(t.mqttPort)))
    // Beyond the cap of 4 from 127.0.0.1, the hub closes them at once.
    let closed = 0
    for (const s of idle) void s.closed.then(() => closed++)
    await waitFor(() => closed >= 4, { what: 'four sockets over the cap closed' })
    expect(closed).toBe(4)
    // A device on another address is not locked out by them.
    expect(await connackCode(t.mqttUrl, { ...login(d), localAddress: '127.0.0.2' })).toBe(0)
    // The rest go once the connect timeout has passed.
    await Promise.all(idle.map((s) => s.closed))
    expect(await connackCode(t.mqttUrl, login(d))).toBe(0)
  })

  it('lets a client that keeps retrying in once the connect rate allows: a refusal costs nothing', async () => {
    await using t = await startTestHub({ mqtt: { connectRatePerAddress: 2 } })
    const d = await addDevice(t.hub.db, 'd1')
    const codes: number[] = []
    for (let i = 0; i < 6; i++) codes.push(await connackCode(t.mqttUrl, login(d)))
    expect(codes.filter((c) => c === 3).length).toBeGreaterThan(0)
    // Retrying as fast as it can: with refusals charged, it would never get in.
    await waitFor(async () => (await connackCode(t.mqttUrl, login(d))) === 0, {
      timeoutMs: 5000,
      what: 'a CONNECT within the rate',
    })
  })
})

describe('a device that publishes to many forbidden topics', () => {
  it('makes a few acl.denied events and one with a count, not one per topic', async () => {
    await using t = await startTestHub()
    const denied = collect(t, 'acl.denied')
    {
      await using c = await connect(t.mqttUrl, login(await addDevice(t.hub.db, 'd1')))
      for (let i = 0; i < 300; i++) c.publish(`elsewhere/${i}`, 'x', { qos: 0 })
      await c.publishAsync('devices/d1/marker', 'done', { qos: 1 })
    }
    await waitFor(() => denied.some((e) => e.detail.count !== undefined), { what: 'the summary' })
    const single = denied.filter((e) => e.detail.count === undefined)
    const summary = denied.filter((e) => e.detail.count !== undefined)
    expect(single.length).toBeLessThanOrEqual(10)
    expect(summary.map((e) => e.detail.count)).toEqual([300 - single.length])
  })
})

describe('offline queues are bounded', () => {
  it('drops new messages beyond mqtt.maxQueuedMessages, counts them and raises one event per episode', async () => {
    await using t = await startTestHub({
      mqtt: {
        allowAnonymous: true,
        anonymousAcl: [{ pattern: '#', access: 'readwrite' }],
        maxQueuedMessages: 5,
      },
    })
    const overflow = collect(t, 'mqtt.queue_overflow')
    {
      await using sleeper = await connect(t.mqttUrl, { clientId: 'sleeper', clean: false })
      await sleeper.subscribeAsync('q/#', { qos: 1 })
    }
    await using pub = await connect(t.mqttUrl)
    for (let i = 0; i < 8; i++) await pub.publishAsync(`q/${i}`, `m${i}`, { qos: 1 })
    expect(t.hub.sys.stats().queueOverflows).toBe(3)
    expect(overflow.map((e) => e.detail.clientId)).toEqual(['sleeper'])

    const received: string[] = []
    await using back = await connect(t.mqttUrl, { clientId: 'sleeper', clean: false }, into(received))
    await waitFor(() => received.length >= 5, { what: 'the five queued messages' })
    const marker = nextMessage(back, 'q/last')
    await pub.publishAsync('q/last', 'last', { qos: 1 })
    await marker
    expect(received).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'last'])
  })
})

describe('a device whose access ends', () => {
  for (const change of ['disabled', 'removed', 'rotated'] as const) {
    it(`is disconnected at once when it is ${change} (MQTT 5: DISCONNECT 0x87)`, async () => {
      await using t = await startTestHub()
      const d = await addDevice(t.hub.db, 'd1')
      const { secret } = createToken(t.hub.db, { name: 'admin', scope: 'admin' })
      await using c = await connect(t.mqttUrl, { ...login(d), protocolVersion: 5 })
      const disconnect = new Promise<number | undefined>((resolve) =>
        c.once('disconnect', (p) => resolve(p.reasonCode)),
      )
      const api = (method: string, path: string, body?: unknown) =>
        fetch(`${t.url}/api/v1/devices/${path}`, {
          method,
          headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
          ...(body ? { body: JSON.stringify(body) } : {}),
        })
      const res =
        change === 'disabled'
          ? await api('PATCH', 'd1', { enabled: false })
          : change === 'removed'
            ? await api('DELETE', 'd1')
            : await api('POST', 'd1/rotate')
      expect(res.ok).toBe(true)
      expect(await disconnect).toBe(0x87)
    })
  }
})

describe('ACL rules that deny', () => {
  it('refuses what a deny rule names before any allow, for publishing, subscribing and delivery', async () => {
    await using t = await startTestHub({
      mqtt: { acl: [{ pattern: 'devices/%u/secret', access: 'deny' }] },
    })
    const denied = collect(t, 'acl.denied')
    await using c = await connect(t.mqttUrl, login(await addDevice(t.hub.db, 'd1')))
    const granted = await c.subscribeAsync(['devices/d1/#', 'devices/d1/secret'], { qos: 1 }).then(
      (res) => res.map((g) => g.qos),
      // mqtt.js rejects a SUBACK holding 0x80; the packet is on the error.
      (err: { packet?: { granted?: number[] } }) => err.packet?.granted,
    )
    expect(granted).toEqual([1, 128])
    const seen: string[] = []
    c.on('message', (topic) => seen.push(topic))
    // Its own subtree is allowed by default; the deny rule takes the secret out of it.
    await c.publishAsync('devices/d1/secret', 'x', { qos: 1 })
    await t.hub.broker.publish({ topic: 'devices/d1/secret', payload: 'hub', qos: 1 })
    const marker = nextMessage(c, 'devices/d1/marker')
    await c.publishAsync('devices/d1/marker', 'after', { qos: 1 })
    await marker
    expect(seen.filter((s) => !s.endsWith('/status'))).toEqual(['devices/d1/marker'])
    expect(denied.map((e) => [e.detail.action, e.detail.topic])).toEqual([
      ['subscribe', 'devices/d1/secret'],
      ['publish', 'devices/d1/secret'],
    ])
  })
})
