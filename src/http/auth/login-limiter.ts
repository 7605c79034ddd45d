/** Failed-login bookkeeping for one key (an address or a username). */
interface Entry {
  failures: number
  lastFailure: number
}

interface LoginLimiterOptions {
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

interface LoginLimiter {
  /** Seconds to wait before `keys` may try again, or 0 when they may try now. */
  retryAfter(keys: readonly string[]): number
  /** Counts a failure of each key; answers the most failures of one of them and the wait it starts. */
  fail(keys: readonly string[]): { failures: number; retryAfter: number }
  succeed(key: string): void
}

/**
 * Exponential back-off per key. Kept in memory: a restart forgives, which costs an attacker a
 * restart they cannot cause.
 */
function createLoginLimiter(opts: LoginLimiterOptions = {}): LoginLimiter {
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

  const retryAfter = (keys: readonly string[]) => {
    const t = now()
    let until = 0
    for (const k of keys) {
      const e = live(k, t)
      if (e) until = Math.max(until, blockedUntil(e))
    }
    return until > t ? Math.ceil((until - t) / 1000) : 0
  }

  return {
    retryAfter,
    fail(keys) {
      const t = now()
      let failures = 0
      for (const k of keys) {
        const e = live(k, t) ?? { failures: 0, lastFailure: t }
        entries.delete(k)
        if (entries.size >= maxKeys) evict(t)
        entries.set(k, { failures: e.failures + 1, lastFailure: t })
        failures = Math.max(failures, e.failures + 1)
      }
      return { failures, retryAfter: retryAfter(keys) }
    },
    succeed(key) {
      entries.delete(key)
    },
  }
}

/** Which back-off a lockout belongs to: one user from one address, or one address for every user. */
type LockoutScope = 'user+address' | 'address'

interface LoginThrottleOptions {
  /** One user from one address: default 5 free failures, then 1 s doubling to 15 min. */
  perUserAddress?: LoginLimiterOptions
  /** One address across every username: default 20 free failures, then the same back-off. */
  perAddress?: LoginLimiterOptions
  now?: () => number
}

export interface LoginThrottle {
  /** Seconds before `username` may try again from `address`, or 0 when it may try now. */
  retryAfter(username: string, address: string): number
  /** Counts a failed login; answers each back-off it started or lengthened (a lockout). */
  fail(
    username: string,
    address: string,
  ): Array<{ scope: LockoutScope; failures: number; retryAfter: number }>
  /** A correct password forgives that user's failures from that address. */
  succeed(username: string, address: string): void
}

/**
 * Login back-off per (user, address) and per address. Never per user alone: failures from one
 * address (a guesser, a phone with an old password) must not keep the owner out from another.
 */
export function createLoginThrottle(opts: LoginThrottleOptions = {}): LoginThrottle {
  const now = opts.now ?? Date.now
  const pairs = createLoginLimiter({ now, ...opts.perUserAddress })
  const addresses = createLoginLimiter({ now, freeAttempts: 20, ...opts.perAddress })
  // The NUL cannot occur in a username or an address, so two pairs never share a key.
  const pairKey = (username: string, address: string) => `${username}\u0000${address}`
  return {
    retryAfter: (username, address) =>
      Math.max(pairs.retryAfter([pairKey(username, address)]), addresses.retryAfter([address])),
    fail(username, address) {
      const pair = pairs.fail([pairKey(username, address)])
      const addr = addresses.fail([address])
      return [
        ...(pair.retryAfter > 0 ? [{ scope: 'user+address' as const, ...pair }] : []),
        ...(addr.retryAfter > 0 ? [{ scope: 'address' as const, ...addr }] : []),
      ]
    },
    succeed(username, address) {
      pairs.succeed(pairKey(username, address))
    },
  }
}
