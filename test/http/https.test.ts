import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateLocalTls } from '../../src/tls/generate.ts'
import { startTestHub, tempDir } from '../helpers/hub.ts'

describe('HTTPS', () => {
  it('serves the API over TLS when http.tls is set, and marks the session cookie Secure', async () => {
    using dir = tempDir()
    const tls = await generateLocalTls(join(dir.path, 'tls'), { hosts: ['127.0.0.1', 'localhost'] })
    await using t = await startTestHub({ http: { tls: { cert: tls.cert, key: tls.key } } })
    expect(t.hub.httpUrl).toStartWith('https://')
    const res = await fetch(`${t.hub.httpUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: t.adminPassword }),
      tls: { ca: readFileSync(tls.caCert, 'utf8') },
    })
    expect(res.status).toBe(200)
    const cookie = res.headers.get('set-cookie') ?? ''
    expect(cookie).toContain('Secure')
    expect(cookie).toContain('HttpOnly')
    expect(cookie).toContain('SameSite=Strict')
  })
})
