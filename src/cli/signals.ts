/** What `listenForStop` needs of a process: a way to hear signals and to exit. */
export interface SignalSource {
  on(signal: 'SIGINT' | 'SIGTERM', fn: () => void): unknown
  exit(code: number): void
}

/**
 * The first SIGINT/SIGTERM asks for a graceful stop (the promise resolves with its name); a second
 * one means "now" and exits at once with 130, skipping the stop [issue 2 point 6].
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
