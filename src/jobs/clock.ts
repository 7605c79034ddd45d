/**
 * Time as the scheduler sees it. Tests pass a clock whose time they move by hand, so firing is
 * asserted without waiting [STYLE 15]; the hub passes the system clock.
 */
export interface Clock {
  now(): number
  /** Calls `fn` once `ms` of this clock's time have passed; returns a cancel function. */
  setTimer(fn: () => void, ms: number): () => void
}

// Node timers overflow past 2^31-1 ms; waking at least once a minute also absorbs wall-clock jumps.
const MAX_TIMER_MS = 60_000

/** The real clock (with an injectable `now`, like the rest of the hub). */
export function systemClock(now: () => number = Date.now): Clock {
  return {
    now,
    setTimer(fn, ms) {
      const timer = setTimeout(fn, Math.max(0, Math.min(ms, MAX_TIMER_MS)))
      return () => clearTimeout(timer)
    },
  }
}
