/** A task that runs at start and then on an interval until stopped. */
interface Periodic {
  start(): void
  /** Idempotent. */
  stop(): void
}

/**
 * Runs `task` at `start()` and then every `everyMs` until `stop()`; the timer does not keep the
 * process alive, so housekeeping never delays an exit.
 */
export function periodic(task: () => void, everyMs: number): Periodic {
  let timer: ReturnType<typeof setInterval> | undefined
  return {
    start() {
      task()
      timer = setInterval(task, everyMs)
      timer.unref?.()
    },
    stop() {
      if (timer) clearInterval(timer)
      timer = undefined
    },
  }
}
