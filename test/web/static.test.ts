// How the console is served: embedded assets at / and /assets, behind a strict
// CSP, cacheable by content hash, and never in the way of the API and the other top-level routes.
import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { CONSOLE_CSP } from '../../src/http/console/static.ts'
import { startTestHub } from '../helpers/hub.ts'

const DIST = resolve(import.meta.dir, '../../web/dist')

describe('console assets', () => {
  it('serves the page without a session, with a CSP that allows only its own scripts and styles', async () => {
    await using t = await startTestHub()
    const res = await fetch(`${t.url}/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP)
    expect(CONSOLE_CSP).toContain("script-src 'self'")
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    const html = await res.text()
    // No inline script or style: everything the page runs is an asset of its own origin.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/)
    expect(html).not.toContain('<style')
    expect(html).not.toMatch(/https?:\/\//)
    const scripts = [...html.matchAll(/(?:src|href|data-mqtt)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!)
    expect(scripts.map((s) => s.replace(/\?v=[0-9a-f]{16}$/, ''))).toEqual([
      '/assets/icon.svg',
      '/assets/app.css',
      '/assets/app.js',
      '/assets/mqtt.js',
    ])
  })

  it('serves each asset as built, immutable under its hash, gzipped when asked, 304 when unchanged', async () => {
    await using t = await startTestHub()
    const html = await (await fetch(`${t.url}/`)).text()
    const js = /src="(\/assets\/app\.js\?v=[0-9a-f]+)"/.exec(html)![1]!
    const res = await fetch(`${t.url}${js}`, { headers: { 'accept-encoding': 'identity' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(join(DIST, 'app.js')))).toBe(true)

    const gz = await fetch(`${t.url}${js}`, { headers: { 'accept-encoding': 'gzip' }, decompress: false })
    expect(gz.headers.get('content-encoding')).toBe('gzip')
    const zipped = new Uint8Array(await gz.arrayBuffer())
    expect(zipped.byteLength).toBeLessThan(readFileSync(join(DIST, 'app.js')).byteLength / 2)
    expect(Buffer.from(Bun.gunzipSync(zipped)).equals(readFileSync(join(DIST, 'app.js')))).toBe(true)

    const etag = res.headers.get('etag')!
    const again = await fetch(`${t.url}/assets/app.js`, { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
    // Without the current hash in the URL, the browser must revalidate.
    const plain = await fetch(`${t.url}/assets/app.css?v=old`)
    expect(plain.headers.get('cache-control')).toBe('no-cache')
  })

  it('leaves every other route to its own router', async () => {
    await using t = await startTestHub()
    const missing = await fetch(`${t.url}/assets/nothing.js`)
    expect(missing.status).toBe(404)
    expect((await missing.json()).code).toBe(40402)
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200)
    const me = await fetch(`${t.url}/api/v1/auth/me`)
    expect(me.status).toBe(401)
    expect((await me.json()).code).toBe(40101)
    expect((await fetch(`${t.url}/metrics`)).status).toBe(401)
    expect((await fetch(`${t.url}/api/v1/openapi.json`)).headers.get('content-type')).toContain(
      'application/json',
    )
  })
})
