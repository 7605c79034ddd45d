/** What `listenForStop` and `listenForReload` need of a process: a way to hear signals and to exit. */
interface SignalSource {
  on(signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP', fn: () => void): unknown
  exit(code: number): void
}

/**
 * The first SIGINT/SIGTERM asks for a graceful stop (the promise resolves with its name); a second
 * one means "now" and exits at once with 130, skipping the stop.
 */
export function listenForStop(proc: SignalSource): Promise<string> {
  const stop = Promise.withResolvers<string>()
  let signals = 0
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    proc.on(signal, () => {
      signals++
      if (signals > 1) proc.exit(130)
      else stop.resolve(signal)
    })
  }
  return stop.promise
}

/** Subscribes to reload requests; returns the unsubscribe function. */
export type OnReload = (fn: () => void) => () => void

/**
 * SIGHUP asks for a config reload and never ends the process (its default action would, taking
 * every device offline when a terminal closes). A SIGHUP that comes before anyone listens (the
 * hub still starting) is kept and handed to the first listener.
 */
export function listenForReload(proc: Pick<SignalSource, 'on'>): OnReload {
  const listeners = new Set<() => void>()
  let pending = false
  proc.on('SIGHUP', () => {
    if (!listeners.size) pending = true
    for (const fn of listeners) fn()
  })
  return (fn) => {
    listeners.add(fn)
    if (pending) {
      pending = false
      fn()
    }
    return () => listeners.delete(fn)
  }
}
