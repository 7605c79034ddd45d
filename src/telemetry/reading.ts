/** One measurement: a device's metric at a time. */
export interface Reading {
  device: string
  metric: string
  /** Milliseconds since the epoch. */
  ts: number
  value: number
}

/** Where a reading came from, carried on its `telemetry.reading` event. */
export type ReadingSource = 'http' | 'mqtt' | 'poll' | 'api'

// Decimal notation only: Number() would also take '', '0x1f', 'Infinity' and '  '.
const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

/** A finite number from a number or a numeric string (`"26.20"`); undefined for anything else. */
export function numericValue(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined
  if (typeof v !== 'string') return undefined
  const text = v.trim()
  if (!NUMERIC.test(text)) return undefined
  const n = Number(text)
  return Number.isFinite(n) ? n : undefined
}

// Below this an epoch number is read as seconds: 1e11 s is the year 5138, 1e11 ms is March 1973.
const SECONDS_BELOW = 1e11

/**
 * A reading time from an ISO 8601 string or epoch seconds or milliseconds (numbers or numeric
 * strings), as ms; undefined when it is none of these.
 */
export function parseTimestamp(v: unknown): number | undefined {
  const n = numericValue(v)
  if (n !== undefined) {
    if (n < 0) return undefined
    return Math.round(n < SECONDS_BELOW ? n * 1000 : n)
  }
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(v)) return undefined
  const ms = Date.parse(v)
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined
}

/** The earliest reading time accepted: an earlier one comes from a clock that was never set. */
const EARLIEST_READING_MS = Date.UTC(2000, 0, 1)
/** How far past the hub's clock a reading may be: a sensor clock a little ahead, not a typo. */
const READING_LEAD_MS = 86_400_000

/** Whether a reading time lies in [2000-01-01, now + 1 day]. */
export function readingTimeInRange(ts: number, now: number): boolean {
  return ts >= EARLIEST_READING_MS && ts <= now + READING_LEAD_MS
}
