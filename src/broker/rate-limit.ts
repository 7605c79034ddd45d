/**
 * A token bucket that may go into debt: `take` always succeeds and answers how long the caller
 * must wait before the bucket is back to zero. Reading stays paused for that long, so a burst
 * already parsed is paid for by the silence after it and the average rate is the configured one.
 * A class, not a closure: every connection holds two of these.
 */
export class TokenBucket {
  private tokens: number
  private last: number

  /** `ratePerSecond` tokens a second, holding at most `capacity` (one second's worth by default). */
  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity = ratePerSecond,
    now = 0,
  ) {
    this.tokens = capacity
    this.last = now
  }

  /** Takes `n` tokens at time `now` (ms); returns the ms until the balance is no longer negative. */
  take(n: number, now: number): number {
    this.refill(now)
    this.tokens -= n
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.ratePerSecond)
  }

  /** Whether the bucket is full at `now` (so it can be forgotten). */
  full(now: number): boolean {
    this.refill(now)
    return this.tokens >= this.capacity
  }

  private refill(now: number) {
    if (now <= this.last) return
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.ratePerSecond) / 1000)
    this.last = now
  }
}
