/** At most `size` calls of `run` at once; the rest wait in order. */
interface Limiter {
  run<T>(fn: () => Promise<T>): Promise<T>
  readonly active: number
}

export function createLimiter(size: number): Limiter {
  let active = 0
  const waiting: Array<() => void> = []
  const release = () => {
    const next = waiting.shift()
    if (next) next()
    else active--
  }
  return {
    get active() {
      return active
    },
    async run(fn) {
      // A released slot passes straight to the next waiter, so `active` never overshoots.
      if (active < size) active++
      else await new Promise<void>((resolve) => waiting.push(resolve))
      try {
        return await fn()
      } finally {
        release()
      }
    },
  }
}
