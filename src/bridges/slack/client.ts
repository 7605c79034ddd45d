import { parseRetryAfter } from '../../outbox/backoff.ts'
import { type DeliveryOutcome, Outcome } from '../../outbox/types.ts'

/** Where one Slack message goes, with its credentials resolved. */
export type Destination =
  | { name: string; kind: 'webhook'; url: string }
  | { name: string; kind: 'bot'; channel: string }

/** A message as Slack takes it: Block Kit with the plain-text fallback in `text`. */
export interface SlackMessage {
  text: string
  blocks: unknown[]
}

/** Posts one message and says what the outbox should do next [STYLE 9]; `dead` latches the destination. */
export interface SlackClient {
  post(dest: Destination, message: SlackMessage, signal: AbortSignal): Promise<DeliveryOutcome>
}

interface SlackClientOptions {
  apiUrl: string
  botToken?: string | undefined
  timeoutMs: number
  fetch?: typeof fetch
  now?: () => number
}

// chat.postMessage errors that mean the channel or the token will not work again without a person.
const DEAD_ERRORS = new Set([
  'channel_not_found',
  'is_archived',
  'not_in_channel',
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'org_login_required',
  'ekm_access_denied',
  'team_access_not_granted',
  'access_denied',
])
const RETRY_ERRORS = new Set([
  'ratelimited',
  'fatal',
  'internal_error',
  'service_unavailable',
  'request_timeout',
])

/**
 * Incoming webhooks answer `ok` or an HTTP error with a text code (`no_service`,
 * `channel_is_archived`, `invalid_token` …); chat.postMessage answers 200 with `{"ok": false,
 * "error": …}`. Both answer 429 with Retry-After.
 */
export function createSlackClient(opts: SlackClientOptions): SlackClient {
  const doFetch = opts.fetch ?? fetch
  const now = opts.now ?? Date.now
  const postMessage = `${opts.apiUrl.replace(/\/+$/, '')}/chat.postMessage`

  return {
    async post(dest, message, signal) {
      const bot = dest.kind === 'bot'
      if (bot && !opts.botToken) return Outcome.dead('no slack.botToken for a channel destination')
      let res: Response
      try {
        res = await doFetch(bot ? postMessage : dest.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json; charset=utf-8',
            ...(bot ? { authorization: `Bearer ${opts.botToken}` } : {}),
          },
          body: JSON.stringify(bot ? { channel: dest.channel, ...message } : message),
          redirect: 'manual',
          signal: AbortSignal.any([signal, AbortSignal.timeout(opts.timeoutMs)]),
        })
      } catch (err) {
        const e = err as Error
        return Outcome.retryLater(
          e?.name === 'TimeoutError' ? `timed out after ${opts.timeoutMs} ms` : (e?.message ?? String(err)),
        )
      }
      const full = await res.text().catch(() => '')
      const text = full.slice(0, 200)
      if (res.status === 429 || res.status >= 500) {
        const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), now())
        return Outcome.retryLater(`HTTP ${res.status}${text ? `: ${text}` : ''}`, {
          httpStatus: res.status,
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        })
      }
      if (res.status === 403 || res.status === 404 || res.status === 410)
        return Outcome.dead(`HTTP ${res.status}${text ? `: ${text}` : ''}`, res.status)
      if (res.status < 200 || res.status >= 300)
        return Outcome.badRequest(`HTTP ${res.status}: ${text}`, res.status)
      if (!bot) return Outcome.ok(res.status)
      let body: { ok?: boolean; error?: string }
      try {
        body = JSON.parse(full)
      } catch {
        return Outcome.retryLater(`chat.postMessage answered something that is not JSON: ${text}`)
      }
      if (body.ok) return Outcome.ok(res.status)
      const error = body.error ?? 'unknown_error'
      if (DEAD_ERRORS.has(error)) return Outcome.dead(error)
      if (RETRY_ERRORS.has(error))
        return Outcome.retryLater(error, {
          ...(error === 'ratelimited'
            ? { retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), now()) ?? 1000 }
            : {}),
        })
      return Outcome.badRequest(error)
    },
  }
}
