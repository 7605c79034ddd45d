import type { Bus } from '../bus/bus.ts'
import type { Logger } from '../log.ts'
import { isSupervised, type Service, type ServiceContext, type ServiceEntry } from './service.ts'

export interface Backoff {
  initialMs: number
  maxMs: number
  /** A run this long without failing resets the back-off. */
  stableMs: number
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 1000, maxMs: 5 * 60_000, stableMs: 60_000 }

interface RuntimeOptions {
  log: Logger
  bus: Bus
  entries: ServiceEntry[]
  /** A service that is not supervised failed while running: the hub must exit non-zero. */
  onFatal(err: unknown, service: string): void
  backoff?: Backoff
  now?: () => number
}

export interface Runtime {
  start(): Promise<void>
  /** Stops in reverse order; one failing `stop()` does not block the rest. Idempotent. */
  stop(): Promise<void>
  readonly signal: AbortSignal
}

/** The back-off before restart number `attempt` (1-based): initial, doubling, capped. */
export function backoffDelay(attempt: number, b: Backoff = DEFAULT_BACKOFF): number {
  return Math.min(b.initialMs * 2 ** Math.max(attempt - 1, 0), b.maxMs)
}

export function createRuntime(opts: RuntimeOptions): Runtime {
  const log = opts.log.child('runtime')
  const backoff = opts.backoff ?? DEFAULT_BACKOFF
  const now = opts.now ?? Date.now
  const abort = new AbortController()
  const started: Array<{ stop(): Promise<void> }> = []
  let stopping: Promise<void> | undefined

  const stopQuietly = async (svc: Service) => {
    try {
      await svc.stop()
    } catch (err) {
      log.error('service stop failed', { service: svc.name, err })
    }
  }

  const plain = async (svc: Service) => {
    const ctx: ServiceContext = {
      signal: abort.signal,
      fail: (err) => {
        if (abort.signal.aborted) return
        log.error('service failed', { service: svc.name, err })
        opts.onFatal(err, svc.name)
      },
    }
    await svc.start(ctx)
    started.push({ stop: () => stopQuietly(svc) })
  }

  const supervised = (svc: Service) => {
    let attempt = 0
    let generation = 0
    let runningSince = 0
    let timer: ReturnType<typeof setTimeout> | undefined

    const failed = (err: unknown, gen: number) => {
      if (abort.signal.aborted || gen !== generation) return
      generation++
      if (runningSince && now() - runningSince >= backoff.stableMs) attempt = 0
      attempt++
      const retryInMs = backoffDelay(attempt, backoff)
      const error = err instanceof Error ? err.message : String(err)
      log.warn('service failed, restarting', { service: svc.name, attempt, retryInMs, error })
      opts.bus.emit('service.failed', { service: svc.name, error, attempt, retryInMs }, { subject: svc.name })
      void stopQuietly(svc).then(() => {
        if (abort.signal.aborted) return
        timer = setTimeout(() => void run(true), retryInMs)
      })
    }

    const run = async (isRestart: boolean) => {
      timer = undefined
      const gen = generation
      try {
        await svc.start({ signal: abort.signal, fail: (err) => failed(err, gen) })
        if (gen !== generation) return
        runningSince = now()
        if (isRestart)
          opts.bus.emit('service.restarted', { service: svc.name, attempt }, { subject: svc.name })
      } catch (err) {
        failed(err, gen)
      }
    }

    started.push({
      stop: async () => {
        if (timer) clearTimeout(timer)
        await stopQuietly(svc)
      },
    })
    return run(false)
  }

  return {
    signal: abort.signal,
    async start() {
      for (const entry of opts.entries) {
        if (isSupervised(entry)) await supervised(entry.service)
        else await plain(entry)
      }
    },
    stop() {
      stopping ??= (async () => {
        abort.abort()
        for (const s of started.reverse()) await s.stop()
      })()
      return stopping
    },
  }
}
