import { parseRetryAfter } from '../../outbox/backoff.ts'
import { type DeliveryOutcome, Outcome } from '../../outbox/types.ts'

/** What a caller can do about a failed Firebase request [STYLE 9]. */
type FailureKind = 'retry' | 'dead' | 'bad-request'

/** A Firebase request that failed, translated at the edge; the vendor's answer is kept in the fields. */
export class FirebaseFailure extends Error {
  readonly status: number | undefined
  readonly retryAfterMs: number | undefined
  /** Firestore's `error.status` (`FAILED_PRECONDITION`, `NOT_FOUND`, …), when it sent one. */
  readonly vendorStatus: string | undefined

  constructor(
    readonly kind: FailureKind,
    message: string,
    info: { status?: number; retryAfterMs?: number; vendorStatus?: string; cause?: unknown } = {},
  ) {
    super(message, info.cause === undefined ? undefined : { cause: info.cause })
    this.name = 'FirebaseFailure'
    this.status = info.status
    this.retryAfterMs = info.retryAfterMs
    this.vendorStatus = info.vendorStatus
  }
}

/** An answer read in full: the parsed JSON body (or undefined) and a short text for messages. */
interface HttpResult {
  ok: boolean
  status: number
  headers: Headers
  body: unknown
  snippet: string
}

// Enough of an error body to tell a person why, not enough to fill the event log.
const SNIPPET = 300

/**
 * One request with a deadline over the whole exchange, body included: Google's SDKs wait forever
 * on a host that accepts and never answers. Network errors and the deadline
 * become a `retry` failure; any HTTP answer is returned for the caller to classify.
 */
export async function withDeadline(
  doFetch: typeof fetch,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<HttpResult> {
  const deadline = AbortSignal.timeout(timeoutMs)
  const all = signal ? AbortSignal.any([signal, deadline]) : deadline
  try {
    const res = await doFetch(url, { ...init, signal: all })
    const text = await res.text()
    let body: unknown
    try {
      body = text ? JSON.parse(text) : undefined
    } catch {
      body = undefined
    }
    return { ok: res.ok, status: res.status, headers: res.headers, body, snippet: text.slice(0, SNIPPET) }
  } catch (err) {
    const where = safeWhere(url)
    const reason = deadline.aborted
      ? `no answer from ${where} within ${timeoutMs} ms`
      : signal?.aborted
        ? `request to ${where} aborted`
        : `${where}: ${(err as Error)?.message ?? String(err)}`
    throw new FirebaseFailure('retry', reason, { cause: err })
  }
}

/**
 * An HTTP error answer as a failure: 408, 429 and 5xx retry (with `Retry-After`); 401 and 403
 * retry too, since a token runs out or rules get fixed and a mirror write must not be lost for
 * it; 404 is a dead target; any other 4xx is a bad request.
 */
export function failureOf(res: HttpResult, what: string, now: number = Date.now()): FirebaseFailure {
  const vendor = vendorError(res.body)
  const reason = `${what}: HTTP ${res.status}${vendor.message ? ` ${vendor.message}` : res.snippet ? ` ${res.snippet}` : ''}`
  const info = { status: res.status, ...(vendor.status ? { vendorStatus: vendor.status } : {}) }
  if (res.status === 408 || res.status === 429 || res.status >= 500) {
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), now)
    return new FirebaseFailure('retry', reason, {
      ...info,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    })
  }
  if (res.status === 401 || res.status === 403) return new FirebaseFailure('retry', reason, info)
  if (res.status === 404) return new FirebaseFailure('dead', reason, info)
  return new FirebaseFailure('bad-request', reason, info)
}

/** What the outbox should do after a failure thrown by a Firebase client. */
export function outcomeOf(err: unknown): DeliveryOutcome {
  if (!(err instanceof FirebaseFailure)) return Outcome.retryLater((err as Error)?.message ?? String(err))
  const status = err.status === undefined ? {} : { httpStatus: err.status }
  switch (err.kind) {
    case 'retry':
      return Outcome.retryLater(err.message, {
        ...status,
        ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
      })
    case 'dead':
      return Outcome.dead(err.message, err.status)
    case 'bad-request':
      return Outcome.badRequest(err.message, err.status)
  }
}

// Firestore: {"error": {"code", "message", "status"}}; the Realtime Database: {"error": "text"}.
function vendorError(body: unknown): { message?: string; status?: string } {
  const e = (body as { error?: unknown } | undefined)?.error
  if (typeof e === 'string') return { message: e }
  if (e && typeof e === 'object') {
    const { message, status } = e as { message?: unknown; status?: unknown }
    return {
      ...(typeof message === 'string' ? { message: message.slice(0, SNIPPET) } : {}),
      ...(typeof status === 'string' ? { status } : {}),
    }
  }
  return {}
}

// A URL without its query: the access token travels there.
function safeWhere(url: string): string {
  const u = new URL(url)
  return `${u.origin}${u.pathname}`
}
