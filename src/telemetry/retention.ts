import type { Logger } from '../log.ts'
import type { Service } from '../runtime/service.ts'
import { HOUR, MINUTE, type TelemetryStore } from './store.ts'

interface RetentionOptions {
  store: TelemetryStore
  log: Logger
  rawMs: number
  minuteMs: number
  hourMs: number
  /** How often to prune, ms. */
  everyMs: number
  now?: () => number
}

interface PruneReport {
  raw: number
  minute: number
  hour: number
}

export interface TelemetryRetention extends Service {
  /** Deletes what is older than each table's retention; resolves with how many rows went. */
  prune(): Promise<PruneReport>
}

/**
 * The retention job: raw readings for `rawMs` (default 7 days), roll-ups for
 * `hourMs` (default 2 years). A series' open minute and hour stay: they hold its latest value.
 * Runs at start and then every `everyMs`. Each series is its own short
 * transaction with a yield in between, so a large first prune never stalls the broker or ingest.
 */
export function createTelemetryRetention(opts: RetentionOptions): TelemetryRetention {
  const log = opts.log.child('telemetry-retention')
  const now = opts.now ?? Date.now
  let timer: ReturnType<typeof setInterval> | undefined
  let running: Promise<PruneReport> | undefined
  // Set by stop() so a prune in flight leaves off between series; prune() works without start().
  let stopped = false

  const pruneAll = async (): Promise<PruneReport> => {
    const t = now()
    const report: PruneReport = { raw: 0, minute: 0, hour: 0 }
    const { store } = opts
    for (const { id } of store.listSeries()) {
      if (stopped) break
      store.db.transaction(() => {
        report.raw += store.prune('raw', id, t - opts.rawMs)
        report.minute += store.prune(MINUTE, id, t - opts.minuteMs)
        report.hour += store.prune(HOUR, id, t - opts.hourMs)
      })()
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
    if (report.raw + report.minute + report.hour > 0) log.info('pruned telemetry', { ...report })
    return report
  }

  const prune = () => {
    // One prune at a time: an interval firing during a long first prune joins it.
    running ??= pruneAll().finally(() => {
      running = undefined
    })
    return running
  }

  const tick = () => {
    prune().catch((err) => log.error('telemetry prune failed', { err }))
  }

  return {
    name: 'telemetry-retention',
    prune,
    start() {
      stopped = false
      tick()
      timer = setInterval(tick, opts.everyMs)
      timer.unref?.()
    },
    async stop() {
      stopped = true
      if (timer) clearInterval(timer)
      timer = undefined
      // The database closes after services stop: let the prune in flight leave its series first.
      await running?.catch(() => {})
    },
  }
}
