/** Per-target circuit breaker settings. */
interface BreakerPolicy {
  /** Consecutive failed attempts that open the circuit. */
  threshold: number
  /** How long an open circuit stays open before one probe is let through, ms. */
  cooldownMs: number
}

export type CircuitState = 'closed' | 'open' | 'half-open'

/**
 * A circuit breaker for one target: after `threshold` consecutive failures it stops deliveries
 * for `cooldownMs`, then lets a single probe through; the probe's result closes or reopens it.
 * A `Retry-After` from the target pauses it the same way without counting as a failure.
 */
export interface Breaker {
  state(now: number): CircuitState
  /** Whether a delivery may start now, given how many are in flight. */
  allows(now: number, inFlight: number): boolean
  /** Records a failed attempt; returns true when this opened the circuit. */
  failure(now: number): boolean
  /** Records a successful attempt (or any answer that shows the target is up); true when it closed the circuit. */
  success(): boolean
  /** Holds deliveries until `until` (a target's Retry-After). */
  pause(until: number): void
  /** When the breaker next lets something through, if it is holding deliveries now. */
  blockedUntil(now: number): number | undefined
  readonly failures: number
}

export function createBreaker(policy: BreakerPolicy): Breaker {
  let failures = 0
  let openUntil = 0
  let opened = false
  let pausedUntil = 0

  const state = (now: number): CircuitState => (!opened ? 'closed' : now < openUntil ? 'open' : 'half-open')

  return {
    state,
    get failures() {
      return failures
    },
    allows(now, inFlight) {
      if (now < pausedUntil) return false
      const s = state(now)
      return s === 'closed' || (s === 'half-open' && inFlight === 0)
    },
    failure(now) {
      failures++
      const s = state(now)
      if (s === 'half-open' || (s === 'closed' && failures >= policy.threshold)) {
        const wasOpen = opened
        opened = true
        openUntil = now + policy.cooldownMs
        return !wasOpen
      }
      return false
    },
    success() {
      failures = 0
      const wasOpen = opened
      opened = false
      return wasOpen
    },
    pause(until) {
      pausedUntil = Math.max(pausedUntil, until)
    },
    blockedUntil(now) {
      const times = [pausedUntil > now ? pausedUntil : 0, state(now) === 'open' ? openUntil : 0].filter(
        Boolean,
      )
      return times.length ? Math.max(...times) : undefined
    },
  }
}
