import { describe, expect, it } from 'bun:test'
import { copyFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { HubEvent } from '../../src/protocol.ts'
import { generateLocalTls } from '../../src/tls/generate.ts'
import {
  addDevice,
  collect,
  connackCode,
  connect,
  grantedQos,
  login,
  nextMessage,
} from '../broker/mqtt-fixture.ts'
import { tempDir } from '../helpers/hub.ts'
import { startFileHub } from '../helpers/reload.ts'
import { waitFor } from '../helpers/wait.ts'

describe('config reload: the broker', () => {
  it('keeps a connected device online while a new mqtt.acl rule starts to apply to it', async () => {
    await using t = await startFileHub('')
    await using c = await connect(t.mqttUrl, login(await addDevice(t.hub.db, 'd1')))
    let closed = false
    c.on('close', () => {
      closed = true
    })
    expect(await grantedQos(c, 'shared/d1/x')).toBe(128)
    const reloaded = collect(t, 'config.reloaded')

    const result = t.rewrite('[mqtt]\nacl = [{ pattern = "shared/%u/#", access = "readwrite" }]\n')

    expect(result).toEqual({ ok: true, applied: ['mqtt.acl'], needsRestart: [] })
    expect(reloaded.map((e) => e.detail)).toEqual([{ applied: ['mqtt.acl'], needsRestart: [] }])
    expect(await grantedQos(c, 'shared/d1/x')).toBe(1)
    const got = nextMessage(c, 'shared/d1/x')
    await c.publishAsync('shared/d1/x', 'hello', { qos: 1 })
    expect((await got).payload).toBe('hello')
    expect({ connected: c.connected, closed }).toEqual({ connected: true, closed: false })

    // Taking the rule out again applies as well: the next SUBSCRIBE is refused.
    expect(t.rewrite('')).toEqual({ ok: true, applied: ['mqtt.acl'], needsRestart: [] })
    expect(await grantedQos(c, 'shared/d1/y')).toBe(128)
  })

  it('lets anonymous clients in, with only the new anonymousAcl, once allowAnonymous is reloaded', async () => {
    await using t = await startFileHub('')
    expect(await connackCode(t.mqttUrl)).toBe(5)

    const result = t.rewrite(
      '[mqtt]\nallowAnonymous = true\nanonymousAcl = [{ pattern = "public/#", access = "read" }]\n',
    )

    expect(result).toEqual({
      ok: true,
      applied: ['mqtt.allowAnonymous', 'mqtt.anonymousAcl'],
      needsRestart: [],
    })
    await using anon = await connect(t.mqttUrl)
    expect([await grantedQos(anon, 'public/news'), await grantedQos(anon, 'private/x')]).toEqual([1, 128])
  })

  it('applies a lower maxConnections to the next CONNECT and leaves open connections alone', async () => {
    await using t = await startFileHub('[mqtt]\nallowAnonymous = true\n')
    await using first = await connect(t.mqttUrl)
    await using second = await connect(t.mqttUrl)

    expect(t.rewrite('[mqtt]\nallowAnonymous = true\nmaxConnections = 2\n')).toEqual({
      ok: true,
      applied: ['mqtt.maxConnections'],
      needsRestart: [],
    })

    expect(await connackCode(t.mqttUrl)).toBe(3)
    expect([first.connected, second.connected]).toEqual([true, true])
  })

  it('applies a smaller maxPacketSize at once: a larger packet from a connected client closes it', async () => {
    await using t = await startFileHub(
      '[mqtt]\nallowAnonymous = true\nanonymousAcl = [{ pattern = "#", access = "readwrite" }]\n',
    )
    await using c = await connect(t.mqttUrl)
    await c.publishAsync('big', 'x'.repeat(2000), { qos: 1 })

    t.rewrite(
      '[mqtt]\nallowAnonymous = true\nanonymousAcl = [{ pattern = "#", access = "readwrite" }]\nmaxPacketSize = 1024\n',
    )

    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()))
    c.publish('big', 'x'.repeat(2000), { qos: 0 })
    await closed
  })

  it('reads new [[telemetry.mqtt]] mappings: the next message becomes a reading', async () => {
    const open = '[mqtt]\nallowAnonymous = true\nanonymousAcl = [{ pattern = "#", access = "readwrite" }]\n'
    await using t = await startFileHub(open)
    const readings: HubEvent<'telemetry.reading'>[] = collect(t, 'telemetry.reading')
    await using c = await connect(t.mqttUrl)
    await c.publishAsync('sensors/kitchen/co', '12.5', { qos: 1 })
    expect(readings).toEqual([])

    const result = t.rewrite(
      `${open}\n[[telemetry.mqtt]]\ntopic = "sensors/+/co"\ndevice = 1\nmetric = "co"\n`,
    )

    expect(result).toEqual({ ok: true, applied: ['telemetry.mqtt'], needsRestart: [] })
    await c.publishAsync('sensors/kitchen/co', '13', { qos: 1 })
    await waitFor(() => readings.length, { what: 'a reading' })
    expect(readings.map((e) => [e.detail.device, e.detail.metric, e.detail.value])).toEqual([
      ['kitchen', 'co', 13],
    ])
  })
})

describe('config reload: the MQTT TLS certificate', () => {
  it('serves a renewed certificate file to new connections and keeps the open one up', async () => {
    using dir = tempDir()
    const before = await generateLocalTls(join(dir.path, 'before'))
    const after = await generateLocalTls(join(dir.path, 'after'))
    const live = { cert: join(dir.path, 'hub.crt'), key: join(dir.path, 'hub.key') }
    copyFileSync(before.cert, live.cert)
    copyFileSync(before.key, live.key)
    const toml = `[mqtt]\nacl = []\n[mqtt.tls]\nport = 0\ncert = "${live.cert}"\nkey = "${live.key}"\n`
    await using t = await startFileHub(toml)
    const url = `mqtts://localhost:${t.hub.mqttTlsPort}`
    const creds = await addDevice(t.hub.db, 'd1')
    await using old = await connect(url, {
      ...login(creds),
      clientId: 'old',
      ca: readFileSync(before.caCert),
    })

    // Renewed in place: same paths, new files.
    copyFileSync(after.cert, live.cert)
    copyFileSync(after.key, live.key)
    expect(t.rewrite(toml)).toEqual({ ok: true, applied: ['mqtt.tls.cert'], needsRestart: [] })

    await using fresh = await connect(url, {
      ...login(creds),
      clientId: 'new',
      ca: readFileSync(after.caCert),
    })
    expect(fresh.connected).toBe(true)
    const refused = await connackCode(url, { ...login(creds), ca: readFileSync(before.caCert) }).catch(
      (e: Error) => e.message,
    )
    expect(String(refused)).toMatch(/certificate|self.signed|issuer|verify/i)
    await old.subscribeAsync('devices/d1/#', { qos: 1 })
    const got = nextMessage(old, 'devices/d1/ping')
    await fresh.publishAsync('devices/d1/ping', 'still up', { qos: 1 })
    expect((await got).payload).toBe('still up')
  })

  it('refuses a reload whose certificate cannot be read and applies none of it', async () => {
    using dir = tempDir()
    const tls = await generateLocalTls(join(dir.path, 'tls'))
    const toml = (cert: string, acl: string) =>
      `[mqtt]\nacl = [${acl}]\n[mqtt.tls]\nport = 0\ncert = "${cert}"\nkey = "${tls.key}"\n`
    await using t = await startFileHub(toml(tls.cert, ''))
    const alerts = collect(t, 'alert')
    await using c = await connect(t.mqttUrl, login(await addDevice(t.hub.db, 'd1')))

    const result = t.rewrite(toml(join(dir.path, 'missing.crt'), '{ pattern = "shared/#", access = "read" }'))

    expect(result.ok).toBe(false)
    expect(!result.ok && result.problems[0]).toContain('mqtt.tls.cert')
    expect(alerts.map((e) => [e.detail.source, e.detail.severity])).toEqual([['config', 'critical']])
    expect(await grantedQos(c, 'shared/x')).toBe(128)
    await waitFor(() => c.connected)
  })
})
