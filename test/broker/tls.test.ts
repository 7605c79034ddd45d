import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import type { CliIo } from '../../src/cli/command.ts'
import { runCli } from '../../src/cli/run.ts'
import { loadConfig } from '../../src/config/load.ts'
import { ListenError } from '../../src/runtime/listen-error.ts'
import { generateLocalTls, issueDeviceCertificate } from '../../src/tls/generate.ts'
import { startTestHub, tempDir } from '../helpers/hub.ts'
import { addDevice, collect, connackCode, connect, login } from './mqtt-fixture.ts'

const tlsUrl = (port: number | undefined) => `mqtts://localhost:${port}`

describe('MQTT over TLS', () => {
  it('serves MQTT over TLS with the generated CA, through the same auth and ACL', async () => {
    using dir = tempDir()
    const tls = await generateLocalTls(join(dir.path, 'tls'))
    await using t = await startTestHub({ mqtt: { tls: { port: 0, cert: tls.cert, key: tls.key } } })
    expect(t.hub.mqttTlsPort).toBeGreaterThan(0)
    const creds = await addDevice(t.hub.db, 'd1')
    const ca = readFileSync(tls.caCert)
    await using c = await connect(tlsUrl(t.hub.mqttTlsPort), { ...login(creds), ca })
    expect(c.connected).toBe(true)
    const refused = await c
      .subscribeAsync('#', { qos: 1 })
      .catch((e: { packet: { granted: number[] } }) => e.packet)
    expect(refused).toMatchObject({ granted: [128] })
    expect(await connackCode(tlsUrl(t.hub.mqttTlsPort), { username: 'd1', password: 'wrong', ca })).toBe(4)
    expect(await connackCode(tlsUrl(t.hub.mqttTlsPort), { ca })).toBe(5)
  })

  it('cannot be reached by a client that does not trust the hub’s CA', async () => {
    using dir = tempDir()
    const tls = await generateLocalTls(join(dir.path, 'tls'))
    await using t = await startTestHub({ mqtt: { tls: { port: 0, cert: tls.cert, key: tls.key } } })
    const creds = await addDevice(t.hub.db, 'd1')
    const err = await connackCode(tlsUrl(t.hub.mqttTlsPort), login(creds)).catch((e: Error) => e)
    expect(err).toBeInstanceOf(Error)
    expect(String((err as Error).message)).toMatch(/certificate|self.signed|issuer/i)
  })

  it('takes the device from its client certificate when mqtt.tls.requireClientCert is set', async () => {
    using dir = tempDir()
    const tls = await generateLocalTls(join(dir.path, 'tls'))
    const d1 = await issueDeviceCertificate(tls.dir, 'd1')
    const ghost = await issueDeviceCertificate(tls.dir, 'ghost')
    // PEM text works as well as a path.
    const pem = (f: string) => readFileSync(f, 'utf8')
    await using t = await startTestHub({
      mqtt: { tls: { port: 0, cert: pem(tls.cert), key: tls.key, ca: tls.caCert, requireClientCert: true } },
    })
    await addDevice(t.hub.db, 'd1')
    const online = collect(t, 'device.online')
    const ca = readFileSync(tls.caCert)
    const withCert = (files: { cert: string; key: string }) => ({
      ca,
      cert: readFileSync(files.cert),
      key: readFileSync(files.key),
    })
    await using c = await connect(tlsUrl(t.hub.mqttTlsPort), { ...withCert(d1), clientId: 'cert-client' })
    expect(online.map((e) => e.detail.device)).toEqual(['d1'])
    expect(await c.subscribeAsync('devices/d1/#', { qos: 1 })).toEqual([{ topic: 'devices/d1/#', qos: 1 }])
    // A valid certificate for a device nobody registered: not authorized.
    expect(await connackCode(tlsUrl(t.hub.mqttTlsPort), withCert(ghost))).toBe(5)
    // A certificate of d1 cannot log in as another device.
    expect(
      await connackCode(tlsUrl(t.hub.mqttTlsPort), { ...withCert(d1), username: 'd2', password: 'x' }),
    ).toBe(5)
    // No certificate at all: the TLS handshake itself fails.
    await expect(
      connackCode(tlsUrl(t.hub.mqttTlsPort), { ca, username: 'd1', password: 'x' }),
    ).rejects.toThrow()
  })

  it('fails the hub’s start with a ListenError when the TLS port is taken', async () => {
    using dir = tempDir()
    const tls = await generateLocalTls(join(dir.path, 'tls'))
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    try {
      const port = (blocker.address() as { port: number }).port
      const started = startTestHub({ mqtt: { tls: { port, cert: tls.cert, key: tls.key } } })
      await expect(started).rejects.toBeInstanceOf(ListenError)
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()))
    }
  })

  it('hearth init --tls writes a CA and a server certificate and configures the hub to serve them', async () => {
    using dir = tempDir()
    let out = ''
    const io: CliIo = {
      out: (s) => {
        out += s
      },
      err: (s) => {
        out += s
      },
      env: {},
      cwd: dir.path,
      stopRequested: new Promise(() => {}),
      isTTY: false,
    }
    expect(await runCli(['init', '--tls', '--tls-host', 'hearth.example'], io)).toBe(0)
    expect(out).toContain(join(dir.path, 'data', 'tls', 'ca.crt'))
    // A second run keeps the CA devices may already trust.
    expect(await runCli(['init', '--tls'], io)).toBe(1)
    const { config } = loadConfig({ cwd: dir.path, env: {}, file: join(dir.path, 'hearth.toml') })
    expect(config.mqtt.tls).toMatchObject({
      cert: join(dir.path, 'data', 'tls', 'server.crt'),
      key: join(dir.path, 'data', 'tls', 'server.key'),
      ca: join(dir.path, 'data', 'tls', 'ca.crt'),
    })
    const { cert, key, ca } = config.mqtt.tls
    await using t = await startTestHub({ mqtt: { tls: { port: 0, cert, key } } })
    const creds = await addDevice(t.hub.db, 'd1')
    await using c = await connect(tlsUrl(t.hub.mqttTlsPort), { ...login(creds), ca: readFileSync(ca!) })
    expect(c.connected).toBe(true)
  })
})
