/** Polls `check` until it returns a truthy value (which is returned) or the deadline passes. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  opts: { timeoutMs?: number; what?: string } = {},
): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000)
  let lastErr: unknown
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    try {
      const v = await check()
      if (v) return v as Exclude<T, false | null | undefined | 0 | ''>
    } catch (err) {
      lastErr = err
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${opts.what ?? 'condition'}${lastErr ? `: ${(lastErr as Error).message}` : ''}`,
      )
    }
    await new Promise<void>((resolve) => setTimeout(resolve, delay))
  }
}

/** Resolves with the first `event` emitted by `emitter` (node EventEmitter style), or rejects after a timeout. */
export function nextEvent<T = unknown>(
  // biome-ignore lint/suspicious/noExplicitAny: any EventEmitter-like (Aedes, mqtt.js, sockets)
  emitter: { once(event: string, fn: (...args: any[]) => void): unknown },
  event: string,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${event}"`)), timeoutMs)
    emitter.once(event, (value: T) => {
      clearTimeout(timer)
      resolve(value)
    })
  })
}

/**
 * Resolves with `undefined` after `ms`: the upper bound of a wait raced against the real
 * condition (`Promise.race([exited, deadline(5000)])`), never a way to wait for an event.
 */
export function deadline(ms: number): Promise<undefined> {
  return new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref?.())
}

/** Holds an answer of a test peer back by `ms`, as a real remote service takes time to answer. */
export function simulatedLatency(ms: number): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, ms))
}
