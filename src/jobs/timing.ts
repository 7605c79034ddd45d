import { Cron, CronDate } from 'croner'
import { WEEKDAYS } from '../util/calendar.ts'
import { LOCAL_DATE_TIME, type Schedule } from './schema.ts'

/** When a schedule fires, as pure functions of time: the scheduler and the preview share them. */
export interface Timing {
  /** The first run strictly after `after`; null when there is none (a one-shot in the past). */
  next(after: number): number | null
  /** Up to `n` of the latest runs in `(after, until]`, oldest first. */
  latest(after: number, until: number, n: number): number[]
  /** How many runs fall in `(after, until]`, counted up to `cap`. */
  count(after: number, until: number, cap: number): number
}

/**
 * The timing of a schedule in `timezone`. Cron, daily and weekly go through croner (so daylight
 * saving time follows its rules); an interval counts from `anchor` (when the schedule was created).
 */
export function timingOf(def: Schedule, timezone: string, anchor: number): Timing {
  switch (def.kind) {
    case 'cron':
      return cronTiming(def.cron, timezone)
    case 'daily':
      return cronTiming(`${clockFields(def.at)} * * *`, timezone)
    case 'weekly': {
      const days = [...new Set(def.days.map((d) => WEEKDAYS.indexOf(d)))].sort((a, b) => a - b)
      return cronTiming(`${clockFields(def.at)} * * ${days.join(',')}`, timezone)
    }
    case 'once':
      return onceTiming(instantOf(def.at, timezone))
    case 'interval':
      return intervalTiming(anchor, def.every)
  }
}

/** The instant of `2025-06-01T09:00` read in `timezone`, or of a date-time that carries its offset. */
export function instantOf(at: string, timezone: string): number {
  const m = LOCAL_DATE_TIME.exec(at)
  if (m?.[7]) return Date.parse(at)
  return new CronDate(at, timezone).getTime()
}

/** `ms` as an ISO 8601 local time with its offset in `timezone`: `2025-06-02T00:10:00+09:00`. */
export function localIso(ms: number, timezone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  )
  const local = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  )
  const offsetMin = Math.round((local - Math.floor(ms / 1000) * 1000) / 60_000)
  const sign = offsetMin < 0 ? '-' : '+'
  const abs = Math.abs(offsetMin)
  const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`
}

function clockFields(at: string): string {
  const [h, m, s] = at.split(':').map(Number)
  return `${s ?? 0} ${m} ${h}`
}

function cronTiming(pattern: string, timezone: string): Timing {
  const cron = new Cron(pattern, { paused: true, timezone, mode: '5-or-6-parts' })
  const next = (after: number) => cron.nextRun(new Date(after))?.getTime() ?? null
  return {
    next,
    latest(after, until, n) {
      // previousRuns counts a run in the same second as its reference, so until + 1 includes until.
      return cron
        .previousRuns(n, new Date(until + 1))
        .map((d) => d.getTime())
        .filter((t) => t > after && t <= until)
        .reverse()
    },
    count(after, until, cap) {
      let n = 0
      for (let t = next(after); t !== null && t <= until && n < cap; t = next(t)) n++
      return n
    },
  }
}

function onceTiming(at: number): Timing {
  const within = (after: number, until: number) => at > after && at <= until
  return {
    next: (after) => (at > after ? at : null),
    latest: (after, until, n) => (n > 0 && within(after, until) ? [at] : []),
    count: (after, until, cap) => (cap > 0 && within(after, until) ? 1 : 0),
  }
}

function intervalTiming(anchor: number, every: number): Timing {
  // Runs are anchor + k·every for k ≥ 1.
  const firstK = (after: number) => Math.max(1, Math.floor((after - anchor) / every) + 1)
  const lastK = (until: number) => Math.floor((until - anchor) / every)
  return {
    next: (after) => anchor + firstK(after) * every,
    latest(after, until, n) {
      const out: number[] = []
      for (let k = Math.max(firstK(after), lastK(until) - n + 1); k <= lastK(until); k++)
        out.push(anchor + k * every)
      return out
    },
    count: (after, until, cap) => Math.min(cap, Math.max(0, lastK(until) - firstK(after) + 1)),
  }
}
