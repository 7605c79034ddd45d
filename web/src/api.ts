import type { ErrorBody } from '../../src/protocol.ts'
import type {
  GetPath,
  GetResult,
  PatchPath,
  PatchResult,
  PostPath,
  PostResult,
  PutPath,
  PutResult,
} from './api-paths.ts'

/** An error answer of the API: its stable numeric code, HTTP status and message. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export type Query = Record<string, string | number | boolean | undefined>

/** `/api/v1` by path: each answer's type follows from its path (`api-paths.ts`). */
export interface Api {
  get<P extends GetPath>(path: P, query?: Query): Promise<GetResult<P>>
  post<P extends PostPath>(path: P, body?: unknown): Promise<PostResult<P>>
  put<P extends PutPath>(path: P, body: unknown): Promise<PutResult<P>>
  patch<P extends PatchPath>(path: P, body: unknown): Promise<PatchResult<P>>
  del(path: string, query?: Query): Promise<void>
  /** The session's CSRF token, sent as `X-CSRF-Token` on every change. */
  csrf: string | undefined
}

/** `/api/v1` over fetch with the session cookie; a 401 calls `onUnauthorized` (back to the login form). */
export function createApi(opts: { base?: string; onUnauthorized(): void }): Api {
  const base = opts.base ?? '/api/v1'
  // The server's answers follow its OpenAPI document, which the path tables mirror: trusted here.
  const api: Api = {
    csrf: undefined,
    get: (path, query) => call('GET', path, undefined, query) as Promise<never>,
    post: (path, body) => call('POST', path, body ?? {}) as Promise<never>,
    put: (path, body) => call('PUT', path, body) as Promise<never>,
    patch: (path, body) => call('PATCH', path, body) as Promise<never>,
    del: async (path, query) => {
      await call('DELETE', path, undefined, query)
    },
  }

  async function call(method: string, path: string, body?: unknown, query?: Query): Promise<unknown> {
    const url = new URL(base + path, location.origin)
    for (const [k, v] of Object.entries(query ?? {}))
      if (v !== undefined && v !== '') url.searchParams.set(k, String(v))
    const headers: Record<string, string> = { accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (method !== 'GET' && api.csrf) headers['X-CSRF-Token'] = api.csrf
    const res = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    if (res.status === 204) return undefined
    const text = await res.text()
    let data: unknown
    try {
      data = text ? JSON.parse(text) : undefined
    } catch {
      data = undefined
    }
    if (!res.ok) {
      const err = data as Partial<ErrorBody> | undefined
      // The login itself answers 401 for a wrong password: that is the form's error, not a lost session.
      if (res.status === 401 && path !== '/auth/login') opts.onUnauthorized()
      throw new ApiError(
        err?.code ?? res.status * 100,
        res.status,
        err?.error ?? `${res.status} ${res.statusText}`,
      )
    }
    return data
  }

  return api
}

/** The message to show for a failed call. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (${err.code})`
  return err instanceof Error ? err.message : String(err)
}
