import type { ErrorBody } from '../../src/protocol.ts'

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

export interface Api {
  get<T>(path: string, query?: Query): Promise<T>
  post<T>(path: string, body?: unknown): Promise<T>
  put<T>(path: string, body: unknown): Promise<T>
  patch<T>(path: string, body: unknown): Promise<T>
  del(path: string, query?: Query): Promise<void>
  /** The session's CSRF token, sent as `X-CSRF-Token` on every change. */
  csrf: string | undefined
}

/** `/api/v1` over fetch with the session cookie; a 401 calls `onUnauthorized` (back to the login form). */
export function createApi(opts: { base?: string; onUnauthorized(): void }): Api {
  const base = opts.base ?? '/api/v1'
  const api: Api = {
    csrf: undefined,
    get: (path, query) => call('GET', path, undefined, query),
    post: (path, body) => call('POST', path, body ?? {}),
    put: (path, body) => call('PUT', path, body),
    patch: (path, body) => call('PATCH', path, body),
    del: (path, query) => call('DELETE', path, undefined, query),
  }

  async function call<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
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
    if (res.status === 204) return undefined as T
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
    return data as T
  }

  return api
}

/** The message to show for a failed call. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (${err.code})`
  return err instanceof Error ? err.message : String(err)
}
