/** Retry timing of the outbox: exponential back-off with jitter, and `Retry-After`. */
interface RetryPolicy {
  /** Delay before the second attempt, ms. */
  baseMs: number
  /** Longest delay between attempts, ms. */
  maxMs: number
}

/**
 * The delay after `attempts` failed attempts: base·2^(n−1), capped, with "equal jitter" (half
 * fixed, half random) so targets that failed together do not retry in lockstep.
 */
export function retryDelay(
  attempts: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const exp = Math.min(policy.baseMs * 2 ** Math.max(attempts - 1, 0), policy.maxMs)
  return Math.round(exp / 2 + random() * (exp / 2))
}

/**
 * `Retry-After` as milliseconds: delay-seconds or an HTTP-date [RFC 9110 10.2.3]. Undefined when
 * absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(at - now, 0)
}
