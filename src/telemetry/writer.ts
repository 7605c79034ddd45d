import type { Bus } from '../bus/bus.ts'
import type { Logger } from '../log.ts'
import type { Service } from '../runtime/service.ts'
import type { Reading, ReadingSource } from './reading.ts'
import { type Bucket, HOUR, MINUTE, type RawRow, type TelemetryStore, type Width } from './store.ts'

/** What happened to one `write()` call's readings, in order. */
interface WriteResult {
  /** false where the series already had a reading at that ms (a repeated send is not counted twice). */
  stored: boolean[]
  storedCount: number
}

export interface TelemetryWriter extends Service {
  /**
   * Buffers readings for the next group commit and resolves once they are in SQLite, so a caller
   * can answer "accepted" only for what is durable. Each stored reading is then emitted as a
   * `telemetry.reading` event.
   */
  write(readings: readonly Reading[], source: ReadingSource): Promise<WriteResult>
  /** Commits whatever is buffered now, without waiting for the tick. */
  flush(): void
  /** Counters since creation: transactions committed and readings stored. */
  stats(): { commits: number; stored: number }
}

interface TelemetryWriterOptions {
  store: TelemetryStore
  bus: Bus
  log: Logger
  now?: () => number
}

interface Job {
  readings: readonly Reading[]
  source: string
  resolve(result: WriteResult): void
  reject(err: unknown): void
}

/**
 * Group commit: every write of one event-loop turn goes into one
 * transaction, scheduled with `setImmediate` so concurrent HTTP requests and MQTT messages handled
 * in the same turn share it. Roll-ups change in that same transaction, so a reading and its
 * roll-ups are never out of step: each series' open minute and hour are rewritten in
 * `telemetry_open` (a page or two for every series), and a bucket moves to its table once a later
 * one starts; a late reading is folded straight into its closed bucket.
 */
export function createTelemetryWriter(opts: TelemetryWriterOptions): TelemetryWriter {
  const { store, bus } = opts
  const log = opts.log.child('telemetry')
  const now = opts.now ?? Date.now
  // Series ids never change once created; the cache saves a lookup per reading.
  const seriesIds = new Map<string, number>()
  let pending: Job[] = []
  let immediate: ReturnType<typeof setImmediate> | undefined
  let running = false
  const counters = { commits: 0, stored: 0 }
  let transaction: ((jobs: Job[]) => boolean[][]) | undefined

  const seriesOf = (device: string, metric: string, t: number): number => {
    const key = `${device}\u0000${metric}`
    let id = seriesIds.get(key)
    if (id === undefined) {
      id = store.ensureSeries(device, metric, t)
      seriesIds.set(key, id)
    }
    return id
  }

  // Each series' open minute and hour, as in `telemetry_open`; null when the series has none yet.
  const open = new Map<number, Record<Width, Bucket | null>>()
  const openOf = (series: number) => {
    let o = open.get(series)
    if (!o) {
      o = { [MINUTE]: store.loadOpen(series, MINUTE) ?? null, [HOUR]: store.loadOpen(series, HOUR) ?? null }
      open.set(series, o)
    }
    return o
  }

  const write = (jobs: Job[]): boolean[][] => {
    const t = now()
    const rows: RawRow[] = []
    for (const job of jobs) {
      for (const r of job.readings)
        rows.push({ series: seriesOf(r.device, r.metric, t), ts: r.ts, value: r.value })
    }
    const stored = store.insertRaw(rows)
    const touched = new Set<number>()
    // Buckets to fold into the closed tables: ones a newer bucket closed, and late readings' ones.
    const closed: Array<[Width, number, Bucket]> = []
    const late = new Map<string, [Width, number, Bucket]>()
    for (let i = 0; i < rows.length; i++) {
      if (!stored[i]) continue
      const { series, ts, value } = rows[i]!
      const o = openOf(series)
      touched.add(series)
      for (const width of [MINUTE, HOUR] as const) {
        const start = ts - (ts % width)
        const cur = o[width]
        if (cur && start === cur.bucket) fold(cur, ts, value)
        else if (!cur || start > cur.bucket) {
          if (cur) closed.push([width, series, cur])
          o[width] = single(start, ts, value)
        } else {
          const key = `${width}:${series}:${start}`
          const b = late.get(key)
          if (b) fold(b[2], ts, value)
          else late.set(key, [width, series, single(start, ts, value)])
        }
      }
    }
    for (const [width, series, b] of closed) store.upsertClosed(width, series, b)
    for (const [width, series, b] of late.values()) store.upsertClosed(width, series, b)
    for (const series of touched) {
      const o = open.get(series)!
      store.saveOpen(series, MINUTE, o[MINUTE]!)
      store.saveOpen(series, HOUR, o[HOUR]!)
    }
    const flags: boolean[][] = []
    let at = 0
    for (const job of jobs) {
      flags.push(stored.slice(at, at + job.readings.length))
      at += job.readings.length
    }
    return flags
  }

  const commit = () => {
    if (immediate) clearImmediate(immediate)
    immediate = undefined
    const jobs = pending
    pending = []
    if (!jobs.length) return
    let flags: boolean[][]
    try {
      transaction ??= store.db.transaction(write)
      flags = transaction(jobs)
      counters.commits++
    } catch (err) {
      // Ids and open buckets changed inside the rolled-back transaction: reload them from the table.
      seriesIds.clear()
      open.clear()
      log.error('telemetry commit failed', { err, readings: jobs.reduce((n, j) => n + j.readings.length, 0) })
      for (const job of jobs) job.reject(err)
      return
    }
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i]!
      const stored = flags[i]!
      let storedCount = 0
      for (let k = 0; k < stored.length; k++) {
        if (!stored[k]) continue
        storedCount++
        const r = job.readings[k]!
        bus.emit(
          'telemetry.reading',
          { device: r.device, metric: r.metric, value: r.value, ts: r.ts, source: job.source },
          { subject: r.device },
        )
      }
      counters.stored += storedCount
      job.resolve({ stored, storedCount })
    }
  }

  const enqueue = (readings: readonly Reading[], source: string): Promise<WriteResult> => {
    if (!running) return Promise.reject(new Error('telemetry writer is not running'))
    for (const r of readings) {
      // One malformed reading would roll back the whole batch, failing every other caller.
      if (!Number.isFinite(r.value) || !Number.isSafeInteger(r.ts) || r.ts < 0) {
        return Promise.reject(
          new TypeError(
            `reading ${r.device}/${r.metric} needs a finite value and a time in ms since the epoch`,
          ),
        )
      }
    }
    if (!readings.length) return Promise.resolve({ stored: [], storedCount: 0 })
    const { promise, resolve, reject } = Promise.withResolvers<WriteResult>()
    pending.push({ readings, source, resolve, reject })
    immediate ??= setImmediate(commit)
    return promise
  }

  return {
    name: 'telemetry',
    write: enqueue,
    flush: commit,
    stats: () => ({ ...counters }),
    start() {
      running = true
    },
    stop() {
      // What callers were promised is committed before the database closes.
      commit()
      running = false
    },
  }
}

function single(bucket: number, ts: number, value: number): Bucket {
  return { bucket, min: value, max: value, sum: value, count: 1, last: value, lastTs: ts }
}

function fold(b: Bucket, ts: number, value: number): void {
  if (value < b.min) b.min = value
  if (value > b.max) b.max = value
  b.sum += value
  b.count++
  if (ts >= b.lastTs) {
    b.last = value
    b.lastTs = ts
  }
}
