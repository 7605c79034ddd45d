/**
 * A local Realtime Database speaking the documented REST and streaming subset
 * (https://firebase.google.com/docs/reference/rest/database): PUT, PATCH, GET and DELETE on
 * `<path>.json`, `print=silent`, and `text/event-stream` with `put`, `patch` and `keep-alive`
 * events. Requests must carry the expected `access_token` or `auth` query parameter.
 */

type Json = unknown

export interface PeerWrite {
  method: string
  path: string
  body: Json
}

export interface RtdbPeerOptions {
  /** The OAuth token expected in `access_token`. */
  accessToken?: string
  /** The legacy secret expected in `auth`. */
  secret?: string
  /** Send `keep-alive` this often on open streams. */
  keepAliveMs?: number
}

export interface RtdbPeer extends AsyncDisposable {
  url: string
  /** Writes received, in order (not GETs or streams). */
  writes: PeerWrite[]
  /** The value at a path (the whole database for ''). */
  get(path?: string): Json
  /** A change made by someone else (a phone app): streams hear it. */
  set(path: string, value: Json): void
  openStreams(): number
  /** Answer streams with 503 (as an overloaded database does); other requests still work. */
  refuseStreams: boolean
  /** Closes the port: the database is unreachable. */
  stop(): Promise<void>
  /** Listens again on the same port. */
  start(): void
}

const segs = (p: string) => p.split('/').filter(Boolean)
const isObj = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v)

function getAt(tree: Json, path: string[]): Json {
  let node = tree
  for (const s of path) {
    if (!isObj(node) || !(s in node)) return null
    node = node[s]
  }
  return node ?? null
}

function setAt(tree: Json, path: string[], value: Json): Json {
  if (!path.length) return value
  const [head, ...rest] = path as [string, ...string[]]
  const o: Record<string, Json> = isObj(tree) ? { ...tree } : {}
  const child = setAt(o[head] ?? null, rest, value)
  if (child === null || (isObj(child) && !Object.keys(child).length)) delete o[head]
  else o[head] = child
  return Object.keys(o).length ? o : null
}

const under = (outer: string[], inner: string[]) =>
  outer.every((s, i) => inner[i] === s) && inner.length >= outer.length

export function startRtdbPeer(opts: RtdbPeerOptions = {}): RtdbPeer {
  let tree: Json = null
  const writes: PeerWrite[] = []
  const streams = new Set<{ path: string[]; send(event: string, data: Json): void; close(): void }>()
  let server: ReturnType<typeof Bun.serve> | undefined
  let port = 0

  const notify = (path: string[], op: 'put' | 'patch', data: Json) => {
    for (const s of streams) {
      if (under(s.path, path)) {
        s.send(op, { path: `/${path.slice(s.path.length).join('/')}`, data })
      } else if (under(path, s.path)) {
        s.send('put', { path: '/', data: getAt(tree, s.path) })
      }
    }
  }

  const authorized = (url: URL) =>
    (opts.accessToken === undefined || url.searchParams.get('access_token') === opts.accessToken) &&
    (opts.secret === undefined || url.searchParams.get('auth') === opts.secret)

  const stream = (path: string[], req: Request) => {
    let entry: { path: string[]; send(event: string, data: Json): void; close(): void } | undefined
    let timer: ReturnType<typeof setInterval> | undefined
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        const enc = new TextEncoder()
        entry = {
          path,
          send: (event, data) => c.enqueue(enc.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)),
          close: () => {
            try {
              c.close()
            } catch {}
          },
        }
        streams.add(entry)
        entry.send('put', { path: '/', data: getAt(tree, path) })
        if (opts.keepAliveMs) timer = setInterval(() => entry?.send('keep-alive', null), opts.keepAliveMs)
        req.signal.addEventListener('abort', () => {
          if (timer) clearInterval(timer)
          if (entry) streams.delete(entry)
        })
      },
      cancel() {
        if (timer) clearInterval(timer)
        if (entry) streams.delete(entry)
      },
    })
    return new Response(body, {
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
    })
  }

  const peer: RtdbPeer = {
    get url() {
      return `http://127.0.0.1:${port}`
    },
    writes,
    refuseStreams: false,
    get: (path = '') => getAt(tree, segs(path)),
    set(path, value) {
      tree = setAt(tree, segs(path), value)
      notify(segs(path), 'put', value)
    },
    openStreams: () => streams.size,
    async stop() {
      for (const s of streams) s.close()
      streams.clear()
      await server?.stop(true)
      server = undefined
    },
    start() {
      server = Bun.serve({
        hostname: '127.0.0.1',
        port,
        idleTimeout: 0,
        async fetch(req) {
          const url = new URL(req.url)
          if (!url.pathname.endsWith('.json'))
            return Response.json({ error: '404 Not Found' }, { status: 404 })
          if (!authorized(url)) return Response.json({ error: 'Unauthorized request.' }, { status: 401 })
          const path = segs(url.pathname.slice(0, -'.json'.length)).map(decodeURIComponent)
          const silent = url.searchParams.get('print') === 'silent'
          const answer = (value: Json) =>
            silent ? new Response(null, { status: 204 }) : Response.json(value)
          switch (req.method) {
            case 'GET':
              if (req.headers.get('accept')?.includes('text/event-stream')) {
                if (peer.refuseStreams)
                  return Response.json({ error: 'Service Unavailable' }, { status: 503 })
                return stream(path, req)
              }
              return Response.json(getAt(tree, path))
            case 'PUT': {
              const body = (await req.json()) as Json
              writes.push({ method: 'PUT', path: path.join('/'), body })
              tree = setAt(tree, path, body)
              notify(path, 'put', body)
              return answer(body)
            }
            case 'PATCH': {
              const body = (await req.json()) as Json
              if (!isObj(body))
                return Response.json({ error: "Invalid data; couldn't parse JSON object." }, { status: 400 })
              writes.push({ method: 'PATCH', path: path.join('/'), body })
              for (const [k, v] of Object.entries(body)) tree = setAt(tree, [...path, ...segs(k)], v)
              notify(path, 'patch', body)
              return answer(body)
            }
            case 'DELETE':
              writes.push({ method: 'DELETE', path: path.join('/'), body: null })
              tree = setAt(tree, path, null)
              notify(path, 'put', null)
              return answer(null)
            default:
              return Response.json({ error: 'method not allowed' }, { status: 405 })
          }
        },
      })
      port = server.port ?? port
    },
    [Symbol.asyncDispose]: () => peer.stop(),
  }
  peer.start()
  return peer
}
