import { formatDuration } from '../util/duration.ts'
import type { TelemetryPoint, TelemetrySeriesView } from './schema.ts'
import { type Bucket, HOUR, MINUTE, type TelemetryStore } from './store.ts'

export interface SeriesQuery {
  device: string
  metric: string
  /** Inclusive, ms since the epoch. */
  from: number
  /** Inclusive, ms since the epoch. */
  to: number
  /** The most values the answer may hold. */
  points: number
}

export type Source = SeriesResult['source']

export type SeriesResult = TelemetrySeriesView

export interface Retention {
  rawMs: number
  minuteMs: number
}

const SECOND = 1000
const DAY = 24 * HOUR
// Widths a person reads easily on a time axis; each is a whole number of its source's buckets.
const STEPS = [
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
]

const bucketsIn = (from: number, to: number, step: number) =>
  Math.floor(to / step) - Math.floor(from / step) + 1

/**
 * A series for a chart: raw readings when they fit in `points`, otherwise the
 * finest bucket width whose bucket count fits, read from raw readings (under a minute), the minute
 * roll-up (under an hour) or the hour roll-up. Raw readings and minute roll-ups are only used
 * for ranges their retention still covers, so a chart never shows a hole that pruning made.
 */
export function querySeries(
  store: TelemetryStore,
  q: SeriesQuery,
  retention: Retention,
  now: number,
): SeriesResult {
  const base = { device: q.device, metric: q.metric, from: q.from, to: q.to }
  const series = store.findSeries(q.device, q.metric)
  const rawOk = q.from >= now - retention.rawMs
  const minuteOk = q.from >= now - retention.minuteMs
  if (series !== undefined && rawOk) {
    // One row more than allowed tells "does not fit" without counting the whole range first.
    const rows = store.selectRaw(series, q.from, q.to, q.points + 1)
    if (rows.length <= q.points) {
      return {
        ...base,
        resolution: 'raw',
        source: 'raw',
        stepMs: 0,
        points: rows.map(([ts, value]) => ({ ts, value })),
      }
    }
  }
  if (series === undefined) return { ...base, resolution: 'raw', source: 'raw', stepMs: 0, points: [] }

  const choice = chooseStep(q, rawOk, minuteOk)
  const start = q.from - (q.from % choice.step)
  const buckets =
    choice.source === 'raw'
      ? rawBuckets(store.selectRaw(series, start, q.to, -1))
      : store.selectBuckets(choice.source === 'minute' ? MINUTE : HOUR, series, start, q.to)
  return {
    ...base,
    resolution: formatDuration(choice.step),
    source: choice.source,
    stepMs: choice.step,
    points: merge(buckets, choice.step),
  }
}

function chooseStep(q: SeriesQuery, rawOk: boolean, minuteOk: boolean): { step: number; source: Source } {
  for (const step of STEPS) {
    const source: Source = step < MINUTE ? 'raw' : step < HOUR ? 'minute' : 'hour'
    if ((source === 'raw' && !rawOk) || (source === 'minute' && !minuteOk)) continue
    if (bucketsIn(q.from, q.to, step) <= q.points) return { step, source }
  }
  // Ranges too long for the widest step above: whole days, doubled until they fit.
  let step = 60 * DAY
  while (bucketsIn(q.from, q.to, step) > q.points) step *= 2
  return { step, source: 'hour' }
}

function rawBuckets(rows: [number, number][]): Bucket[] {
  return rows.map(([ts, value]) => ({
    bucket: ts,
    min: value,
    max: value,
    sum: value,
    count: 1,
    last: value,
    lastTs: ts,
  }))
}

/** Merges ordered buckets (or readings) into `step`-wide ones aligned to the epoch. */
function merge(buckets: Bucket[], step: number): TelemetryPoint[] {
  const out: TelemetryPoint[] = []
  let cur: Bucket | undefined
  const emit = (b: Bucket) =>
    out.push({ ts: b.bucket, value: b.sum / b.count, min: b.min, max: b.max, count: b.count, last: b.last })
  for (const b of buckets) {
    const start = b.bucket - (b.bucket % step)
    if (cur && cur.bucket === start) {
      if (b.min < cur.min) cur.min = b.min
      if (b.max > cur.max) cur.max = b.max
      cur.sum += b.sum
      cur.count += b.count
      if (b.lastTs >= cur.lastTs) {
        cur.last = b.last
        cur.lastTs = b.lastTs
      }
      continue
    }
    if (cur) emit(cur)
    cur = { ...b, bucket: start }
  }
  if (cur) emit(cur)
  return out
}
