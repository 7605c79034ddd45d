import { describe, expect, it } from 'bun:test'
import { Hono } from 'hono'
import { createApp } from '../../src/http/app.ts'
import { silentLogger } from '../../src/log.ts'
import { createApiFixture, json } from './fixture.ts'

const codeOf = async (res: Response) => ((await res.json()) as { code: number }).code

describe('error answers', () => {
  it('answer an unknown route with 404 and code 40402 in JSON', async () => {
    await using f = await createApiFixture()
    const res = await f.request('/no/such/thing')
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toContain('application/json')
    expect(await codeOf(res)).toBe(40402)
  })

  it('answer a wrong method on a known route with 405, code 40501 and Allow', async () => {
    await using f = await createApiFixture()
    const res = await f.request('/api/v1/tokens', { method: 'PUT', headers: f.bearer('admin') })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('GET, POST, HEAD')
    expect(await codeOf(res)).toBe(40501)
    expect((await f.request('/healthz', { method: 'DELETE' })).status).toBe(405)
  })

  it('answer a body that is not JSON with 400 and code 40001', async () => {
    await using f = await createApiFixture()
    const res = await f.request('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"username": ',
    })
    expect(res.status).toBe(400)
    expect(await codeOf(res)).toBe(40001)
  })

  it('answer a body that does not match the schema with 400, code 40002 and the issues', async () => {
    await using f = await createApiFixture()
    const res = await f.request('/api/v1/auth/login', json({ username: 7 }))
    expect(res.status).toBe(400)
    const body = (await res.json()) as { code: number; details: { path: string }[] }
    expect(body.code).toBe(40002)
    expect(body.details.map((d) => d.path).sort()).toEqual(['password', 'username'])
  })

  it('answer a query that does not match the schema with 40002', async () => {
    await using f = await createApiFixture()
    const res = await f.request('/api/v1/events?limit=many', { headers: f.bearer('read') })
    expect(res.status).toBe(400)
    expect(await codeOf(res)).toBe(40002)
  })

  it('answer a body of another media type with 415 and code 41501', async () => {
    await using f = await createApiFixture()
    for (const headers of [{ 'content-type': 'text/plain' }, {}] as Record<string, string>[]) {
      const res = await f.request('/api/v1/auth/login', { method: 'POST', headers, body: '{"username":"a"}' })
      expect(res.status).toBe(415)
      expect(await codeOf(res)).toBe(41501)
    }
  })

  it('answer a body above http.maxBodyBytes with 413 and code 41301, with or without Content-Length', async () => {
    await using f = await createApiFixture({ maxBodyBytes: 2048 })
    const big = JSON.stringify({ username: 'admin', password: 'x'.repeat(4096) })
    const res = await f.request('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    })
    expect(res.status).toBe(413)
    expect(await codeOf(res)).toBe(41301)
    const chunked = await f.request('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Blob([big]).stream(),
    })
    expect(chunked.status).toBe(413)
    expect(await codeOf(chunked)).toBe(41301)
  })

  it('answer an unexpected failure with 500 and code 50001 without leaking the message', async () => {
    const boom = new Hono().get('/', () => {
      throw new Error('secret detail')
    })
    const app = createApp({
      log: silentLogger(),
      maxBodyBytes: 1024,
      corsOrigins: [],
      readiness: [],
      routes: [{ path: '/boom', router: boom }],
    })
    const res = await app.request('/boom')
    expect(res.status).toBe(500)
    expect(await res.json()).toEqual({ code: 50001, error: 'internal error' })
  })
})

describe('security headers and CORS', () => {
  it('send the usual security headers on every answer, errors included', async () => {
    await using f = await createApiFixture()
    for (const path of ['/healthz', '/no/such/thing']) {
      const res = await f.request(path)
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN')
      expect(res.headers.get('referrer-policy')).toBe('no-referrer')
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin')
    }
  })

  it('leave CORS off by default', async () => {
    await using f = await createApiFixture()
    const res = await f.request('/api/v1/events', {
      method: 'OPTIONS',
      headers: { origin: 'https://console.example', 'access-control-request-method': 'GET' },
    })
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
    const get = await f.request('/healthz', { headers: { origin: 'https://console.example' } })
    expect(get.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('allow only the configured origins, with credentials and the CSRF header', async () => {
    await using f = await createApiFixture({ corsOrigins: ['https://console.example'] })
    const preflight = await f.request('/api/v1/tokens', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://console.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, x-csrf-token',
      },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://console.example')
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true')
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-csrf-token')
    const other = await f.request('/healthz', { headers: { origin: 'https://evil.example' } })
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
  })
})
