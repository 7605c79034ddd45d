import { describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { setDeviceAclRule } from '../../src/devices/acl-rules.ts'
import { generateLocalTls } from '../../src/tls/generate.ts'
import { startTestHub, type TestHub, tempDir } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'
import { addDevice, collect, connect, login, nextMessage, run } from './mqtt-fixture.ts'
import { subscribed } from './raw-mqtt.ts'

const PAHO = join(import.meta.dir, 'paho-client.py')

function connectedClient(t: TestHub, clientId: string): boolean {
  return t.hub.broker.clients().some((c) => c.id === clientId && c.connected)
}

const auth = (c: { username: string; password: string }) => ['-u', c.username, '-P', c.password]

describe('interop with Debian mosquitto clients', () => {
  it('carries QoS 0, 1 and 2 from mosquitto_pub to mosquitto_sub with device credentials', async () => {
    await using t = await startTestHub()
    const d1 = await addDevice(t.hub.db, 'd1')
    const base = ['-h', '127.0.0.1', '-p', String(t.mqttPort), ...auth(d1)]
    const sub = run([
      'mosquitto_sub',
      ...base,
      '-i',
      'mosq-sub',
      '-t',
      'devices/d1/data/#',
      '-q',
      '2',
      '-C',
      '3',
      '-F',
      '%q %t %p',
    ])
    await subscribed(t.hub.broker, 'mosq-sub')
    for (const qos of [0, 1, 2]) {
      const pub = await run([
        'mosquitto_pub',
        ...base,
        '-t',
        `devices/d1/data/q${qos}`,
        '-q',
        String(qos),
        '-m',
        `m${qos}`,
      ])
      expect(pub.code).toBe(0)
    }
    const got = await sub
    expect(got.code).toBe(0)
    expect(got.out.trim().split('\n')).toEqual([
      '0 devices/d1/data/q0 m0',
      '1 devices/d1/data/q1 m1',
      '2 devices/d1/data/q2 m2',
    ])
  })

  it('keeps a retained message from mosquitto_pub for a later mosquitto_sub', async () => {
    await using t = await startTestHub()
    const d1 = await addDevice(t.hub.db, 'd1')
    const base = ['-h', '127.0.0.1', '-p', String(t.mqttPort), ...auth(d1)]
    expect(
      (await run(['mosquitto_pub', ...base, '-t', 'devices/d1/config', '-q', '1', '-r', '-m', 'v1'])).code,
    ).toBe(0)
    const sub = await run(['mosquitto_sub', ...base, '-t', 'devices/d1/config', '-C', '1', '-F', '%r %t %p'])
    expect(sub.out).toBe('1 devices/d1/config v1\n')
  })

  it('shows mosquitto clients the refusals: bad password and a denied subscription', async () => {
    await using t = await startTestHub()
    const d1 = await addDevice(t.hub.db, 'd1')
    const bad = await run([
      'mosquitto_pub',
      '-h',
      '127.0.0.1',
      '-p',
      String(t.mqttPort),
      '-u',
      'd1',
      '-P',
      'nope',
      '-t',
      'devices/d1/x',
      '-m',
      'x',
    ])
    expect(bad.code).not.toBe(0)
    expect(bad.err).toMatch(/bad user name or password/i)
    const denied = await run([
      'mosquitto_sub',
      '-h',
      '127.0.0.1',
      '-p',
      String(t.mqttPort),
      ...auth(d1),
      '-t',
      'devices/d2/#',
      '-C',
      '1',
      '-E',
    ])
    expect(denied.err).toMatch(/denied|refused|failure/i)
  })

  it('speaks TLS to mosquitto_pub and mosquitto_sub that trust the generated CA', async () => {
    using dir = tempDir()
    const tls = await generateLocalTls(join(dir.path, 'tls'))
    await using t = await startTestHub({ mqtt: { tls: { port: 0, cert: tls.cert, key: tls.key } } })
    const d1 = await addDevice(t.hub.db, 'd1')
    const base = ['-h', 'localhost', '-p', String(t.hub.mqttTlsPort), '--cafile', tls.caCert, ...auth(d1)]
    const sub = run([
      'mosquitto_sub',
      ...base,
      '-i',
      'tls-sub',
      '-t',
      'devices/d1/secure',
      '-q',
      '1',
      '-C',
      '1',
    ])
    await subscribed(t.hub.broker, 'tls-sub')
    expect(
      (await run(['mosquitto_pub', ...base, '-t', 'devices/d1/secure', '-q', '1', '-m', 'over tls'])).code,
    ).toBe(0)
    expect((await sub).out).toBe('over tls\n')
    // Without the CA the client refuses the hub's certificate.
    const untrusted = await run([
      'mosquitto_pub',
      '-h',
      'localhost',
      '-p',
      String(t.hub.mqttTlsPort),
      '--capath',
      dir.path,
      ...auth(d1),
      '-t',
      'devices/d1/x',
      '-m',
      'x',
    ])
    expect(untrusted.code).not.toBe(0)
  })
})

describe('interop with Debian python3-paho-mqtt', () => {
  const paho = (
    mode: string,
    t: TestHub,
    c: { username: string; password: string },
    clientId: string,
    topic: string,
  ) => ['/usr/bin/python3', PAHO, mode, String(t.mqttPort), c.username, c.password, clientId, topic]

  it('keeps a persistent session: a QoS 1 message published while paho was away arrives on reconnect', async () => {
    await using t = await startTestHub()
    const d1 = await addDevice(t.hub.db, 'd1')
    const first = await run(paho('subscribe', t, d1, 'paho-persist', 'devices/d1/queued'))
    expect(first.out).toBe('connack 0\ngranted 1\n')
    await using pub = await connect(t.mqttUrl, login(d1))
    await pub.publishAsync('devices/d1/queued', 'while away', { qos: 1 })
    const second = await run(paho('resume', t, d1, 'paho-persist', 'devices/d1/queued'))
    expect(second.out).toBe('connack 0\nsession-present 1\nmessage 1 while away\n')
  })

  it('completes a QoS 2 publish from paho to an mqtt.js subscriber', async () => {
    await using t = await startTestHub()
    const d1 = await addDevice(t.hub.db, 'd1')
    await using sub = await connect(t.mqttUrl, login(d1))
    await sub.subscribeAsync('devices/d1/exactly-once', { qos: 2 })
    const got = nextMessage(sub, 'devices/d1/exactly-once')
    const res = await run(paho('publish2', t, d1, 'paho-q2', 'devices/d1/exactly-once'))
    expect(res.out).toBe('connack 0\npublished\n')
    expect(await got).toEqual({ payload: 'paho-qos2', retain: false, qos: 2 })
  })

  it('delivers paho’s will when its process is killed, and presence says the connection was lost', async () => {
    await using t = await startTestHub()
    const d1 = await addDevice(t.hub.db, 'd1')
    const offline = collect(t, 'device.offline')
    // The subscriber is another device, so that d1 has no connection left once paho dies.
    const watcher = await addDevice(t.hub.db, 'watcher')
    setDeviceAclRule(t.hub.db, 'watcher', { pattern: 'devices/d1/will', access: 'read' })
    await using sub = await connect(t.mqttUrl, login(watcher))
    await sub.subscribeAsync('devices/d1/will', { qos: 1 })
    // Bun kills the process when the scope ends, should the test fail before the SIGKILL below.
    await using proc = Bun.spawn(paho('will', t, d1, 'paho-will', 'devices/d1/will'), {
      stdout: 'ignore',
      timeout: 20_000,
    })
    await waitFor(() => connectedClient(t, 'paho-will'), { what: 'paho connected' })
    const will = nextMessage(sub, 'devices/d1/will')
    proc.kill('SIGKILL')
    expect(await will).toEqual({ payload: 'gone', retain: false, qos: 1 })
    await waitFor(() => offline.some((e) => e.detail.clientId === 'paho-will'))
    expect(offline.find((e) => e.detail.clientId === 'paho-will')?.detail.reason).toBe('connection lost')
  })
})
