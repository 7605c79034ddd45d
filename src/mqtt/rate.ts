// Token buckets for the engine's rate limits: CONNECTs per address and inbound PUBLISH rates per
// connection. One small object each, no timers of their own.

/**
 * A token bucket that may go into debt: `take` always succeeds and answers how long the caller
 * must wait before the bucket is back to zero, so a burst already parsed is paid for by the
 * silence after it and the average rate is the configured one. A class, not a closure: every
 * publishing connection holds two of these.
 */
export class TokenBucket {
  private tokens: number
  private at: number

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst
    this.at = now
  }

  private refill(now: number): void {
    if (now > this.at) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.rate) / 1000)
      this.at = now
    }
  }

  /** Takes `n`, going into debt if need be; returns the ms until the debt is paid (0: none). */
  take(n: number, now: number): number {
    this.refill(now)
    this.tokens -= n
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.rate)
  }

  /** Takes one when one is there; a refusal costs nothing, so retrying does not lengthen it. */
  tryTake(now: number): boolean {
    this.refill(now)
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Full again: nothing to remember about its owner. */
  full(now: number): boolean {
    this.refill(now)
    return this.tokens >= this.burst
  }
}
