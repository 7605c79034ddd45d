import { describe, expect, it } from 'bun:test'
import { planDue } from '../../src/jobs/missed.ts'
import { scheduleSchema } from '../../src/jobs/schema.ts'
import { timingOf } from '../../src/jobs/timing.ts'

const H = 3_600_000
const T0 = Date.parse('2025-01-01T00:00:00Z')
const hourly = timingOf(
  scheduleSchema.parse({ kind: 'cron', cron: '0 * * * *', actions: [{ type: 'event', message: 'x' }] }),
  'UTC',
  0,
)
const GRACE = 60_000

describe('missed runs', () => {
  it('runs the one due run on time', () => {
    expect(planDue(hourly, T0, T0 + H + 5, { policy: 'skip' }, GRACE)).toEqual({
      run: [{ at: T0 + H, late: false }],
    })
  })

  it('skips what fell during downtime and still runs the one that is due now (skip)', () => {
    // Down from 00:30 to 05:00:10: 01:00 … 04:00 were missed, 05:00 is on time.
    expect(planDue(hourly, T0 + H - 1, T0 + 5 * H + 10_000, { policy: 'skip' }, GRACE)).toEqual({
      run: [{ at: T0 + 5 * H, late: false }],
      skipped: { count: 4, latest: T0 + 4 * H },
    })
  })

  it('runs only the latest missed run, and only when it is late by less than the window (runIfLateWithin)', () => {
    const policy = { policy: 'runIfLateWithin' as const, within: 30 * 60_000 }
    // 04:00 is 20 min late: it runs; 01:00 … 03:00 are skipped.
    expect(planDue(hourly, T0 + H - 1, T0 + 4 * H + 20 * 60_000, policy, GRACE)).toEqual({
      run: [{ at: T0 + 4 * H, late: true }],
      skipped: { count: 3, latest: T0 + 3 * H },
    })
    // 40 min late: nothing runs.
    expect(planDue(hourly, T0 + H - 1, T0 + 4 * H + 40 * 60_000, policy, GRACE)).toEqual({
      run: [],
      skipped: { count: 4, latest: T0 + 4 * H },
    })
  })

  it('runs every missed run in order up to its bound, then the one on time (runAll)', () => {
    const plan = planDue(hourly, T0 + H - 1, T0 + 10 * H, { policy: 'runAll', max: 3 }, GRACE)
    expect(plan).toEqual({
      run: [
        { at: T0 + 7 * H, late: true },
        { at: T0 + 8 * H, late: true },
        { at: T0 + 9 * H, late: true },
        { at: T0 + 10 * H, late: false },
      ],
      skipped: { count: 6, latest: T0 + 6 * H },
    })
    expect(
      planDue(hourly, T0 + H - 1, T0 + 3 * H + 30 * 60_000, { policy: 'runAll', max: 100 }, GRACE),
    ).toEqual({
      run: [
        { at: T0 + H, late: true },
        { at: T0 + 2 * H, late: true },
        { at: T0 + 3 * H, late: true },
      ],
    })
  })
})
