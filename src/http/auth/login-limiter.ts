/** Failed-login bookkeeping for one key (an address or a username). */
interface Entry {
  failures: number
  lastFailure: number
}

export interface LoginLimiterOptions {
  /** Failures allowed before back-off starts. */
  freeAttempts?: number
  /** First delay once back-off starts; it doubles with every further failure. */
  baseDelayMs?: number
  maxDelayMs?: number
  /** A key with no failure for this long starts over. */
  forgetAfterMs?: number
  /** Bound on remembered keys, so a flood of addresses cannot grow memory without limit. */
  maxKeys?: number
  now?: () => number
}

export interface LoginLimiter {
  /** Seconds to wait before `keys` may try again, or 0 when they may try now. */
  retryAfter(keys: readonly string[]): number
  fail(keys: readonly string[]): void
  succeed(key: string): void
}

/**
 * Exponential back-off per address and per user (issue 4 point 2). Kept in memory: a restart
 * forgives, which costs an attacker a restart they cannot cause.
 */
export function createLoginLimiter(opts: LoginLimiterOptions = {}): LoginLimiter {
  const free = opts.freeAttempts ?? 5
  const base = opts.baseDelayMs ?? 1000
  const max = opts.maxDelayMs ?? 15 * 60_000
  const forget = opts.forgetAfterMs ?? 24 * 3_600_000
  const maxKeys = opts.maxKeys ?? 10_000
  const now = opts.now ?? Date.now
  const entries = new Map<string, Entry>()

  const live = (key: string, t: number): Entry | undefined => {
    const e = entries.get(key)
    if (e && t - e.lastFailure > forget) {
      entries.delete(key)
      return undefined
    }
    return e
  }
  const blockedUntil = (e: Entry) =>
    e.failures < free ? 0 : e.lastFailure + Math.min(base * 2 ** (e.failures - free), max)

  const evict = (t: number) => {
    for (const [k, e] of entries) if (t - e.lastFailure > forget) entries.delete(k)
    // Still full: drop the oldest (Map iterates in insertion order, refreshed on every failure).
    for (const k of entries.keys()) {
      if (entries.size < maxKeys) break
      entries.delete(k)
    }
  }

  return {
    retryAfter(keys) {
      const t = now()
      let until = 0
      for (const k of keys) {
        const e = live(k, t)
        if (e) until = Math.max(until, blockedUntil(e))
      }
      return until > t ? Math.ceil((until - t) / 1000) : 0
    },
    fail(keys) {
      const t = now()
      for (const k of keys) {
        const e = live(k, t) ?? { failures: 0, lastFailure: t }
        entries.delete(k)
        if (entries.size >= maxKeys) evict(t)
        entries.set(k, { failures: e.failures + 1, lastFailure: t })
      }
    },
    succeed(key) {
      entries.delete(key)
    },
  }
}
