// MQTT over TLS on Bun.listen: the verified client certificate's CN reaches the hooks as
// `certificateCommonName`, a client without one is refused when required, and reloadTls gives
// new connections the new certificate while open ones stay.
import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { createEngine, createMemoryStore, listenTcp } from '../../src/mqtt/index.ts'
import { generateLocalTls, issueDeviceCertificate } from '../../src/tls/generate.ts'
import { tempDir } from '../helpers/hub.ts'

describe('MQTT over TLS', () => {
  it('exposes the client certificate CN, refuses clients without one, and reloads the certificate', async () => {
    using dir = tempDir()
    const first = await generateLocalTls(join(dir.path, 'a'))
    const second = await generateLocalTls(join(dir.path, 'b'))
    const device = await issueDeviceCertificate(first.dir, 'd1')
    const seen: Array<[string, string | undefined, string]> = []
    const engine = createEngine({
      store: createMemoryStore(),
      hooks: {
        authenticate: (client) => {
          seen.push([client.id, client.certificateCommonName, client.transport])
          return client.certificateCommonName ?? 'anonymous'
        },
      },
    })
    await engine.start()
    const read = (f: string) => readFileSync(f)
    const listener = listenTcp(engine, {
      port: 0,
      tls: {
        cert: read(first.cert),
        key: read(first.key),
        ca: read(first.caCert),
        requestCert: true,
        rejectUnauthorized: true,
      },
    })
    try {
      const url = `mqtts://localhost:${listener.port}`
      const c = await mqtt.connectAsync(url, {
        clientId: 'dev',
        ca: read(first.caCert),
        cert: read(device.cert),
        key: read(device.key),
        reconnectPeriod: 0,
      })
      expect(seen).toEqual([['dev', 'd1', 'tls']])
      const anonymous = await mqtt
        .connectAsync(url, {
          clientId: 'anon',
          ca: read(first.caCert),
          reconnectPeriod: 0,
          connectTimeout: 3000,
        })
        .then(
          () => 'connected',
          () => 'refused',
        )
      expect(anonymous).toBe('refused')

      listener.reloadTls({ cert: read(second.cert), key: read(second.key) })
      const fresh = await mqtt.connectAsync(url, {
        clientId: 'fresh',
        ca: read(second.caCert),
        reconnectPeriod: 0,
      })
      expect(fresh.connected).toBe(true)
      // the connection made before the reload is still served
      await c.publishAsync('still', 'here', { qos: 1 })
      await Promise.all([c.endAsync(), fresh.endAsync()])
    } finally {
      await engine.stop()
      listener.stop(true)
    }
  })
})
