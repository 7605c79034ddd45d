/** The longest one timer waits before looking again (setTimeout's limit is about 24.8 days). */
const MAX_WAIT_MS = 3_600_000

interface Wakeup {
  /** Makes sure the work runs no later than `at` (an earlier wake-up stays). */
  at(at: number): void
  /** Runs the work now and arms the timer for the time it returns. */
  start(): void
  stop(): void
}

/**
 * One timer for work that is due at stored deadlines (message expiry, convergence timeouts): `work`
 * settles what is due and returns when it is next needed, if ever.
 */
export function createWakeup(work: () => number | undefined, now: () => number): Wakeup {
  let timer: ReturnType<typeof setTimeout> | undefined
  let armedAt = Number.POSITIVE_INFINITY
  let running = false

  const disarm = () => {
    if (timer) clearTimeout(timer)
    timer = undefined
    armedAt = Number.POSITIVE_INFINITY
  }

  const fire = () => {
    disarm()
    const next = work()
    arm(Math.min(next ?? Number.POSITIVE_INFINITY, now() + MAX_WAIT_MS))
  }

  const arm = (at: number) => {
    if (!running || at >= armedAt) return
    disarm()
    armedAt = at
    timer = setTimeout(fire, Math.min(Math.max(0, at - now()), MAX_WAIT_MS))
  }

  return {
    at: arm,
    start() {
      running = true
      fire()
    },
    stop() {
      running = false
      disarm()
    },
  }
}
