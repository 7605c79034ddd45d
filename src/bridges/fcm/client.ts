import { parseRetryAfter } from '../../outbox/backoff.ts'
import { AccessTokenError, type AccessTokens } from '../google/auth.ts'
import { createLimiter } from './limiter.ts'

/**
 * What one v1 send came to, translated at the edge [STYLE 9]: `dead` means the token is gone and
 * may be pruned; `bad-request` means FCM refused this message or this configuration, the token
 * may still be good; `retry` is anything that can pass later (network, 429, 5xx).
 */
export type SendResult =
  | { status: 'ok'; messageId: string }
  | { status: 'retry'; reason: string; retryAfterMs?: number; httpStatus?: number; errorCode?: string }
  | { status: 'dead'; reason: string; httpStatus: number; errorCode: string }
  | { status: 'bad-request'; reason: string; httpStatus?: number; errorCode?: string }

/** Sends one FCM HTTP v1 message (`POST /v1/projects/{p}/messages:send`). */
export interface FcmClient {
  send(body: { message: Record<string, unknown> }, signal: AbortSignal): Promise<SendResult>
}

interface FcmClientOptions {
  baseUrl: string
  projectId: string
  tokens: AccessTokens
  /** Requests in flight at once, across every caller of this client. */
  concurrency: number
  timeoutMs: number
  fetch?: typeof fetch
  now?: () => number
}

const FCM_ERROR = 'type.googleapis.com/google.firebase.fcm.v1.FcmError'
const BAD_REQUEST = 'type.googleapis.com/google.rpc.BadRequest'
const SNIPPET = 200

interface GoogleError {
  code?: number
  message?: string
  status?: string
  details?: Array<{ '@type'?: string; errorCode?: string; fieldViolations?: Array<{ field?: string }> }>
}

export function createFcmClient(opts: FcmClientOptions): FcmClient {
  const doFetch = opts.fetch ?? fetch
  const now = opts.now ?? Date.now
  const url = `${opts.baseUrl.replace(/\/+$/, '')}/v1/projects/${encodeURIComponent(opts.projectId)}/messages:send`
  const limiter = createLimiter(opts.concurrency)

  const attempt = async (body: string, signal: AbortSignal): Promise<SendResult | 'unauthenticated'> => {
    let accessToken: string
    try {
      accessToken = await opts.tokens.get(signal)
    } catch (err) {
      if (err instanceof AccessTokenError)
        return err.outcome === 'retry'
          ? {
              status: 'retry',
              reason: err.message,
              ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
            }
          : { status: 'bad-request', reason: err.message }
      throw err
    }
    let res: Response
    try {
      res = await doFetch(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${accessToken}`,
          'content-type': 'application/json; charset=utf-8',
        },
        body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(opts.timeoutMs)]),
      })
    } catch (err) {
      const e = err as Error
      // Never a reason to prune: the token was not even looked at.
      return {
        status: 'retry',
        reason:
          e?.name === 'TimeoutError' ? `timed out after ${opts.timeoutMs} ms` : (e?.message ?? String(err)),
      }
    }
    const text = await res.text().catch(() => '')
    if (res.ok) {
      const name = safeJson<{ name?: string }>(text)?.name
      return { status: 'ok', messageId: typeof name === 'string' ? name : '' }
    }
    const error = safeJson<{ error?: GoogleError }>(text)?.error
    if (res.status === 401 && !fcmErrorCode(error)) return 'unauthenticated'
    return classify(res.status, error, text, res.headers.get('retry-after'), now())
  }

  return {
    send(body, signal) {
      const text = JSON.stringify(body)
      return limiter.run(async () => {
        const first = await attempt(text, signal)
        if (first !== 'unauthenticated') return first
        // The cached access token was revoked or expired early: one more try with a fresh one.
        opts.tokens.invalidate()
        const second = await attempt(text, signal)
        return second === 'unauthenticated'
          ? { status: 'retry', reason: 'FCM refused the access token (HTTP 401)', httpStatus: 401 }
          : second
      })
    },
  }
}

/** FCM's error code (`UNREGISTERED`, `QUOTA_EXCEEDED` …) from the FcmError detail, if any. */
function fcmErrorCode(error: GoogleError | undefined): string | undefined {
  return error?.details?.find((d) => d['@type'] === FCM_ERROR)?.errorCode
}

/**
 * The documented v1 errors (firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode). Only
 * UNREGISTERED, and INVALID_ARGUMENT when it names the token, say the token is dead.
 */
export function classify(
  httpStatus: number,
  error: GoogleError | undefined,
  text: string,
  retryAfter: string | null,
  now: number,
): SendResult {
  const errorCode = fcmErrorCode(error) ?? error?.status ?? `HTTP_${httpStatus}`
  const reason = `${errorCode}: ${error?.message ?? text.slice(0, SNIPPET)}`
  const later = () => {
    const retryAfterMs = parseRetryAfter(retryAfter, now)
    return {
      status: 'retry' as const,
      reason,
      httpStatus,
      errorCode,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    }
  }
  if (errorCode === 'UNREGISTERED') return { status: 'dead', reason, httpStatus, errorCode }
  if (errorCode === 'INVALID_ARGUMENT' && namesToken(error))
    return { status: 'dead', reason, httpStatus, errorCode }
  if (
    httpStatus === 429 ||
    httpStatus >= 500 ||
    errorCode === 'QUOTA_EXCEEDED' ||
    errorCode === 'UNAVAILABLE'
  )
    return later()
  return { status: 'bad-request', reason, httpStatus, errorCode }
}

function namesToken(error: GoogleError | undefined): boolean {
  const field = error?.details
    ?.filter((d) => d['@type'] === BAD_REQUEST)
    .some((d) => d.fieldViolations?.some((v) => v.field === 'message.token'))
  return Boolean(field) || /registration token/i.test(error?.message ?? '')
}

function safeJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T
  } catch {
    return undefined
  }
}
