/**
 * A token bucket that may go into debt: `take` always succeeds and answers how long the caller
 * must wait before the bucket is back to zero. Reading stays paused for that long, so a burst
 * already parsed is paid for by the silence after it and the average rate is the configured one.
 */
export interface TokenBucket {
  /** Takes `n` tokens at time `now` (ms); returns the ms until the balance is no longer negative. */
  take(n: number, now: number): number
  /** Whether the bucket is full at `now` (so it can be forgotten). */
  full(now: number): boolean
}

/** `ratePerSecond` tokens a second, holding at most `capacity` (one second's worth by default). */
export function createTokenBucket(ratePerSecond: number, capacity = ratePerSecond, now = 0): TokenBucket {
  let tokens = capacity
  let last = now
  const refill = (t: number) => {
    if (t > last) {
      tokens = Math.min(capacity, tokens + ((t - last) * ratePerSecond) / 1000)
      last = t
    }
  }
  return {
    take(n, t) {
      refill(t)
      tokens -= n
      return tokens >= 0 ? 0 : Math.ceil((-tokens * 1000) / ratePerSecond)
    },
    full(t) {
      refill(t)
      return tokens >= capacity
    },
  }
}
