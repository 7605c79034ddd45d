import { parseRetryAfter } from '../../outbox/backoff.ts'
import { type DeliveryOutcome, Outcome } from '../../outbox/types.ts'

interface WebhookRequest {
  url: string
  headers: Record<string, string>
  body: string
  timeoutMs: number
}

/** Posts one webhook and says what the outbox should do next [STYLE 9]. */
export interface WebhookClient {
  post(req: WebhookRequest, signal: AbortSignal): Promise<DeliveryOutcome>
}

interface WebhookClientOptions {
  fetch?: typeof fetch
  now?: () => number
}

// Enough of an error body to tell a person why, not enough to fill the database.
const SNIPPET = 200

/** The real client: `fetch`, no redirects followed, the response classified by status. */
export function createWebhookClient(opts: WebhookClientOptions = {}): WebhookClient {
  const doFetch = opts.fetch ?? fetch
  const now = opts.now ?? Date.now
  return {
    async post(req, signal) {
      let res: Response
      try {
        res = await doFetch(req.url, {
          method: 'POST',
          headers: req.headers,
          body: req.body,
          // A redirect could send the signed body somewhere the target's owner did not choose.
          redirect: 'manual',
          signal: AbortSignal.any([signal, AbortSignal.timeout(req.timeoutMs)]),
        })
      } catch (err) {
        const e = err as Error
        const reason =
          e?.name === 'TimeoutError' ? `timed out after ${req.timeoutMs} ms` : (e?.message ?? String(err))
        return Outcome.retryLater(reason)
      }
      const text = await res.text().catch(() => '')
      return classify(res.status, res.headers.get('retry-after'), text.slice(0, SNIPPET), now())
    },
  }
}

/** Network errors, 408, 429 and 5xx retry; 410 means the target is gone; any other 4xx or 3xx is final. */
export function classify(
  status: number,
  retryAfter: string | null,
  snippet: string,
  now: number,
): DeliveryOutcome {
  if (status >= 200 && status < 300) return Outcome.ok(status)
  const reason = `HTTP ${status}${snippet ? `: ${snippet}` : ''}`
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(retryAfter, now)
    return Outcome.retryLater(reason, {
      httpStatus: status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    })
  }
  if (status === 410) return Outcome.dead(reason, status)
  return Outcome.badRequest(reason, status)
}
