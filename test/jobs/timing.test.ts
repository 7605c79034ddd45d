import { describe, expect, it } from 'bun:test'
import { scheduleSchema } from '../../src/jobs/schema.ts'
import { instantOf, localIso, timingOf } from '../../src/jobs/timing.ts'

const act = [{ type: 'event', message: 'x' }] as const
const timing = (s: Record<string, unknown>, tz = 'UTC', anchor = 0) =>
  timingOf(scheduleSchema.parse({ actions: act, ...s }), tz, anchor)
const isoRuns = (t: ReturnType<typeof timing>, from: string, n: number) => {
  const out: string[] = []
  for (let at = t.next(Date.parse(from)); at !== null && out.length < n; at = t.next(at))
    out.push(new Date(at).toISOString())
  return out
}

describe('schedule timing', () => {
  it('runs */30 * * * * in Asia/Seoul on the hour and half hour (source b, saveLocation)', () => {
    const t = timing({ kind: 'cron', cron: '*/30 * * * *' }, 'Asia/Seoul')
    expect(isoRuns(t, '2025-01-05T14:10:00Z', 3)).toEqual([
      '2025-01-05T14:30:00.000Z',
      '2025-01-05T15:00:00.000Z',
      '2025-01-05T15:30:00.000Z',
    ])
  })

  it('runs weekly on Monday 00:10 Asia/Seoul, which is Sunday 15:10 UTC (source b, pathDaily)', () => {
    const t = timing({ kind: 'weekly', days: ['mon'], at: '00:10' }, 'Asia/Seoul')
    const runs = isoRuns(t, '2025-01-01T00:00:00Z', 3)
    expect(runs).toEqual(['2025-01-05T15:10:00.000Z', '2025-01-12T15:10:00.000Z', '2025-01-19T15:10:00.000Z'])
    expect(runs.map((r) => localIso(Date.parse(r), 'Asia/Seoul'))).toEqual([
      '2025-01-06T00:10:00+09:00',
      '2025-01-13T00:10:00+09:00',
      '2025-01-20T00:10:00+09:00',
    ])
    // The same moment as a cron expression (APScheduler's day_of_week='mon', hour=0, minute=10).
    const cron = timing({ kind: 'cron', cron: '10 0 * * mon' }, 'Asia/Seoul')
    expect(isoRuns(cron, '2025-01-01T00:00:00Z', 3)).toEqual(runs)
  })

  it('takes a seconds field when the cron expression has six', () => {
    const t = timing({ kind: 'cron', cron: '*/15 * * * * *' })
    expect(isoRuns(t, '2025-01-01T00:00:00Z', 3)).toEqual([
      '2025-01-01T00:00:15.000Z',
      '2025-01-01T00:00:30.000Z',
      '2025-01-01T00:00:45.000Z',
    ])
  })

  it('runs daily at a local time across a daylight saving change', () => {
    const t = timing({ kind: 'daily', at: '07:30' }, 'Europe/Berlin')
    // Summer time starts on 2025-03-30: 07:30 is 06:30 UTC before and 05:30 UTC after.
    expect(isoRuns(t, '2025-03-29T00:00:00Z', 2)).toEqual([
      '2025-03-29T06:30:00.000Z',
      '2025-03-30T05:30:00.000Z',
    ])
  })

  it('reads a one-shot time in the schedule zone unless it carries an offset', () => {
    expect(new Date(instantOf('2025-06-01T09:00', 'Asia/Seoul')).toISOString()).toBe(
      '2025-06-01T00:00:00.000Z',
    )
    expect(new Date(instantOf('2025-06-01T09:00:00Z', 'Asia/Seoul')).toISOString()).toBe(
      '2025-06-01T09:00:00.000Z',
    )
    const t = timing({ kind: 'once', at: '2025-06-01T09:00:00+02:00' }, 'Asia/Seoul')
    expect(isoRuns(t, '2025-01-01T00:00:00Z', 5)).toEqual(['2025-06-01T07:00:00.000Z'])
    expect(t.next(Date.parse('2025-06-01T07:00:00Z'))).toBeNull()
  })

  it('counts an interval from its anchor', () => {
    const anchor = Date.parse('2025-01-01T00:00:07Z')
    const t = timing({ kind: 'interval', every: '900s' }, 'UTC', anchor)
    expect(isoRuns(t, '2025-01-01T00:00:00Z', 2)).toEqual([
      '2025-01-01T00:15:07.000Z',
      '2025-01-01T00:30:07.000Z',
    ])
    expect(t.latest(anchor, anchor + 3_600_000, 2).map((x) => new Date(x).toISOString())).toEqual([
      '2025-01-01T00:45:07.000Z',
      '2025-01-01T01:00:07.000Z',
    ])
    expect(t.count(anchor, anchor + 3_600_000, 1000)).toBe(4)
  })

  it('lists the latest runs in a window, oldest first, including its end', () => {
    const t = timing({ kind: 'cron', cron: '0 * * * *' })
    const after = Date.parse('2025-01-01T00:00:00Z')
    const until = Date.parse('2025-01-01T05:00:00Z')
    expect(t.latest(after, until, 3).map((x) => new Date(x).toISOString())).toEqual([
      '2025-01-01T03:00:00.000Z',
      '2025-01-01T04:00:00.000Z',
      '2025-01-01T05:00:00.000Z',
    ])
    expect(t.count(after, until, 1000)).toBe(5)
    expect(t.count(after, until, 2)).toBe(2)
  })
})

describe('schedule schema', () => {
  const issues = (s: Record<string, unknown>) => {
    const r = scheduleSchema.safeParse({ actions: act, ...s })
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
  }

  it('accepts every kind with defaults filled in', () => {
    expect(scheduleSchema.parse({ kind: 'once', at: '2025-06-01T09:00', actions: act })).toEqual({
      kind: 'once',
      at: '2025-06-01T09:00',
      afterRun: 'disable',
      enabled: true,
      missed: { policy: 'skip' },
      actions: [{ type: 'event', message: 'x', level: 'info' }],
    })
    expect(
      issues({ kind: 'interval', every: '15m', missed: { policy: 'runIfLateWithin', within: '10m' } }),
    ).toEqual([])
    expect(issues({ kind: 'cron', cron: '@hourly' })).toEqual([])
  })

  it('refuses bad expressions, times, zones and policies with the path of each', () => {
    expect(issues({ kind: 'cron', cron: '61 * * * *' })[0]).toStartWith('cron: ')
    expect(issues({ kind: 'cron', cron: '* * * * * * *' })[0]).toStartWith(
      'cron: a cron expression has 5 or 6 fields',
    )
    expect(issues({ kind: 'once', at: '2025-02-30T09:00' })[0]).toStartWith('at: ')
    expect(issues({ kind: 'daily', at: '24:00' })[0]).toStartWith('at: ')
    expect(issues({ kind: 'weekly', days: [], at: '00:10' })[0]).toStartWith('days: ')
    expect(issues({ kind: 'daily', at: '07:00', timezone: 'Mars/Olympus' })[0]).toStartWith('timezone: ')
    expect(issues({ kind: 'daily', at: '07:00', missed: { policy: 'runAll', max: 101 } })[0]).toStartWith(
      'missed.max',
    )
    expect(issues({ kind: 'interval', every: '500ms' })[0]).toStartWith('every: ')
    expect(issues({ kind: 'daily', at: '07:00', actions: [] })[0]).toStartWith('actions: ')
  })
})
