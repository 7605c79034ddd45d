import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createCertificateDevices, getDevice } from '../../src/devices/registry.ts'
import { generateLocalTls, issueDeviceCertificate } from '../../src/tls/generate.ts'
import { connackCode, connect } from '../broker/mqtt-fixture.ts'
import { startTestHub, tempDir } from '../helpers/hub.ts'

describe('certificate-only devices', () => {
  it('registers many at once; they connect with their certificate and never with a password', async () => {
    using dir = tempDir()
    const tls = await generateLocalTls(join(dir.path, 'tls'))
    const cert = await issueDeviceCertificate(tls.dir, 'cam-2')
    await using t = await startTestHub({
      mqtt: { tls: { port: 0, cert: tls.cert, key: tls.key, ca: tls.caCert, requireClientCert: true } },
    })
    const ids = Array.from({ length: 500 }, (_, i) => `cam-${i}`)
    expect(
      createCertificateDevices(
        t.hub.db,
        ids.map((id) => ({ id })),
      ),
    ).toEqual(ids)
    // Registered ones are skipped, not failed.
    expect(createCertificateDevices(t.hub.db, [{ id: 'cam-1' }, { id: 'cam-500' }])).toEqual(['cam-500'])
    expect(getDevice(t.hub.db, 'cam-2')).toMatchObject({ id: 'cam-2', name: 'cam-2', enabled: true })
    expect(() => createCertificateDevices(t.hub.db, [{ id: 'a/b' }])).toThrow('invalid device id')

    const url = `mqtts://localhost:${t.hub.mqttTlsPort}`
    const ca = readFileSync(tls.caCert)
    await using c = await connect(url, { ca, cert: readFileSync(cert.cert), key: readFileSync(cert.key) })
    expect(c.connected).toBe(true)
    // No password was issued: none is accepted, not even an empty one.
    expect(await connackCode(t.mqttUrl, { username: 'cam-2', password: '' })).toBe(4)
    expect(await connackCode(t.mqttUrl, { username: 'cam-2', password: 'guess' })).toBe(4)
  })
})
