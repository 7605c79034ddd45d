import type { TokenSource } from '../auth.ts'
import { FirebaseFailure, failureOf, withDeadline } from '../http.ts'
import { createSseParser } from './sse.ts'
import { segments } from './tree.ts'

/** A change the database streamed: `put` replaces the node at `path` (relative to the stream), `patch` merges children. */
export interface RtdbChange {
  event: 'put' | 'patch'
  path: string
  data: unknown
}

interface StreamOptions {
  signal: AbortSignal
  /** A stream with no bytes (the database sends keep-alive every 30 s) for this long is given up. */
  idleTimeoutMs: number
  /** The server accepted the stream. */
  onOpen?(): void
  onChange(change: RtdbChange): void
}

/** The documented REST subset the hub uses: https://firebase.google.com/docs/reference/rest/database */
export interface RtdbClient {
  /** `set` PUTs, `update` PATCHes; a null `set` DELETEs. */
  write(op: 'set' | 'update', path: string, value: unknown, signal?: AbortSignal): Promise<void>
  get(path: string, signal?: AbortSignal): Promise<unknown>
  /** Streams changes under `path` until `signal` aborts (resolves) or the stream fails (rejects). */
  stream(path: string, opts: StreamOptions): Promise<void>
}

interface RtdbClientOptions {
  url: string
  /** The legacy database secret goes in `auth`, an OAuth token in `access_token`; none for an open peer. */
  auth?: { param: 'auth' | 'access_token'; tokens: TokenSource }
  timeoutMs: number
  fetch?: typeof fetch
}

export function createRtdbClient(opts: RtdbClientOptions): RtdbClient {
  const doFetch = opts.fetch ?? fetch

  const urlOf = async (path: string, query: Record<string, string>, signal?: AbortSignal) => {
    const q = new URLSearchParams(query)
    if (opts.auth) q.set(opts.auth.param, await opts.auth.tokens.token(signal))
    const encoded = segments(path).map(encodeURIComponent).join('/')
    return `${opts.url}/${encoded}.json${q.size ? `?${q}` : ''}`
  }

  return {
    async write(op, path, value, signal) {
      const method = op === 'update' ? 'PATCH' : value === null ? 'DELETE' : 'PUT'
      // print=silent: a 204 instead of the written data echoed back.
      const url = await urlOf(path, { print: 'silent' }, signal)
      const init: RequestInit =
        method === 'DELETE'
          ? { method }
          : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) }
      const res = await withDeadline(doFetch, url, init, opts.timeoutMs, signal)
      if (!res.ok) throw failureOf(res, `${method} /${path}`)
    },

    async get(path, signal) {
      const res = await withDeadline(
        doFetch,
        await urlOf(path, {}, signal),
        { method: 'GET' },
        opts.timeoutMs,
        signal,
      )
      if (!res.ok) throw failureOf(res, `GET /${path}`)
      return res.body ?? null
    },

    async stream(path, so) {
      const abort = new AbortController()
      const onOuterAbort = () => abort.abort()
      so.signal.addEventListener('abort', onOuterAbort, { once: true })
      let idle: ReturnType<typeof setTimeout> | undefined
      let idledOut: string | undefined
      const arm = (ms: number, why: string) => {
        if (idle) clearTimeout(idle)
        idle = setTimeout(() => {
          idledOut = why
          abort.abort()
        }, ms)
      }
      try {
        // The connect (up to the response headers) has the request deadline; then the idle limit.
        arm(opts.timeoutMs, `no answer within ${opts.timeoutMs} ms`)
        const url = await urlOf(path, {}, abort.signal)
        // Redirects are followed: the database moves streams between its servers with a 307.
        const res = await doFetch(url, { headers: { accept: 'text/event-stream' }, signal: abort.signal })
        if (!res.ok) {
          const text = await res.text().catch(() => '')
          let body: unknown
          try {
            body = JSON.parse(text)
          } catch {}
          throw failureOf(
            { ok: false, status: res.status, headers: res.headers, body, snippet: text.slice(0, 300) },
            `stream /${path}`,
          )
        }
        if (!res.headers.get('content-type')?.includes('text/event-stream') || !res.body)
          throw new FirebaseFailure('bad-request', `stream /${path}: the answer is not text/event-stream`)
        so.onOpen?.()
        const silent = `no data for ${so.idleTimeoutMs} ms`
        arm(so.idleTimeoutMs, silent)
        const parser = createSseParser()
        for await (const chunk of res.body) {
          arm(so.idleTimeoutMs, silent)
          for (const ev of parser.push(chunk)) {
            if (ev.event === 'put' || ev.event === 'patch') {
              const change = JSON.parse(ev.data) as { path?: unknown; data?: unknown }
              if (typeof change.path !== 'string')
                throw new FirebaseFailure('bad-request', `stream /${path}: ${ev.event} without a path`)
              so.onChange({ event: ev.event, path: change.path, data: change.data ?? null })
            } else if (ev.event === 'cancel') {
              throw new FirebaseFailure(
                'bad-request',
                `stream /${path} cancelled by the database: ${ev.data}`,
              )
            } else if (ev.event === 'auth_revoked') {
              throw new FirebaseFailure('retry', `stream /${path}: the credential expired`)
            }
          }
        }
        if (!so.signal.aborted) throw new FirebaseFailure('retry', `stream /${path} ended`)
      } catch (err) {
        if (so.signal.aborted) return
        if (idledOut) throw new FirebaseFailure('retry', `stream /${path}: ${idledOut}`, { cause: err })
        if (err instanceof FirebaseFailure) throw err
        throw new FirebaseFailure('retry', `stream /${path}: ${(err as Error)?.message ?? String(err)}`, {
          cause: err,
        })
      } finally {
        if (idle) clearTimeout(idle)
        so.signal.removeEventListener('abort', onOuterAbort)
        abort.abort()
      }
    },
  }
}
