import { Hono } from 'hono'
// The console bundle (scripts/build-web.ts). `type: 'file'` makes `bun build --compile` embed
// each file in the binary; at run time the import is a path Bun.file reads (from $bunfs when compiled).
import appCss from '../../../web/dist/app.css' with { type: 'file' }
import appJs from '../../../web/dist/app.js' with { type: 'file' }
import mqttJs from '../../../web/dist/mqtt.js' with { type: 'file' }
import { Errors } from '../../errors.ts'

interface Asset {
  body: Uint8Array<ArrayBuffer>
  gzip: Uint8Array<ArrayBuffer>
  type: string
  /** Content hash: the `?v=` of the asset's URL in the page, and its ETag. */
  hash: string
}

const FILES: Record<string, { path: string; type: string }> = {
  'app.js': { path: appJs, type: 'text/javascript; charset=utf-8' },
  'app.css': { path: appCss, type: 'text/css; charset=utf-8' },
  'mqtt.js': { path: mqttJs, type: 'text/javascript; charset=utf-8' },
  'icon.svg': { path: '', type: 'image/svg+xml' },
}

const ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#0b63c5"/>' +
  '<path d="M16 5 5 14v13h8v-8h6v8h8V14z" fill="#fff"/></svg>'

/**
 * The console's own scripts and styles only: no inline script or style, no other origin. `'self'`
 * covers the same-origin `/ws` and `/mqtt` WebSockets.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

const hashOf = (bytes: Uint8Array) => new Bun.CryptoHasher('sha256').update(bytes).digest('hex').slice(0, 16)

async function loadAssets(): Promise<Map<string, Asset>> {
  const out = new Map<string, Asset>()
  for (const [name, f] of Object.entries(FILES)) {
    const body = new Uint8Array(
      f.path ? await Bun.file(f.path).arrayBuffer() : new TextEncoder().encode(ICON),
    )
    out.set(name, { body, gzip: new Uint8Array(Bun.gzipSync(body)), type: f.type, hash: hashOf(body) })
  }
  return out
}

function page(assets: Map<string, Asset>): string {
  const url = (name: string) => `/assets/${name}?v=${assets.get(name)?.hash ?? ''}`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Hearth</title>
<link rel="icon" href="${url('icon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${url('app.css')}">
<script type="module" src="${url('app.js')}" data-mqtt="${url('mqtt.js')}"></script>
</head>
<body>
<div id="app"><noscript><p>The Hearth console needs JavaScript.</p></noscript></div>
</body>
</html>
`
}

/**
 * The admin console at `/` and its assets at `/assets/…`, served from the
 * bundle embedded in the binary: no CDN, no file on disk. The page itself is public (it shows a
 * login form); every piece of data comes from the API after login. Mount it last.
 */
export function createConsoleStatic() {
  const router = new Hono()
  let assets: Promise<Map<string, Asset>> | undefined
  let html: string | undefined
  const ready = () => {
    assets ??= loadAssets()
    return assets
  }

  router.get('/', async (c) => {
    html ??= page(await ready())
    return c.body(html, 200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'content-security-policy': CONSOLE_CSP,
    })
  })

  router.get('/assets/:name', async (c) => {
    const asset = (await ready()).get(c.req.param('name'))
    if (!asset) throw Errors.routeNotFound()
    const etag = `"${asset.hash}"`
    // A URL with the current hash never changes; anything else is revalidated.
    const immutable = c.req.query('v') === asset.hash
    const headers: Record<string, string> = {
      'content-type': asset.type,
      etag,
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      vary: 'accept-encoding',
    }
    if (c.req.header('if-none-match') === etag) return c.body(null, 304, headers)
    if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
      return c.body(asset.gzip, 200, { ...headers, 'content-encoding': 'gzip' })
    }
    return c.body(asset.body, 200, headers)
  })

  return router
}
