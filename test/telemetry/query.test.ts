import { describe, expect, it } from 'bun:test'
import type { Reading } from '../../src/telemetry/reading.ts'
import { telemetryFixture } from './fixture.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR
// An hour boundary, so bucket starts are easy to read.
const T0 = Date.UTC(2025, 0, 15, 12)

const series = (n: number, stepMs: number, start = T0, value = (i: number) => i): Reading[] =>
  Array.from({ length: n }, (_, i) => ({
    device: 'pi-1',
    metric: 'co',
    ts: start + i * stepMs,
    value: value(i),
  }))

describe('telemetry queries', () => {
  it('answers raw readings when they fit in points', async () => {
    await using f = telemetryFixture({ now: T0 + 5 * 60_000 })
    await f.writer.write(series(100, 1000), 'http')
    const res = f.telemetry.query({
      device: 'pi-1',
      metric: 'co',
      from: T0,
      to: T0 + 5 * 60_000,
      points: 100,
    })
    expect(res).toMatchObject({ resolution: 'raw', source: 'raw', stepMs: 0 })
    expect(res.points).toHaveLength(100)
    expect(res.points[3]).toEqual({ ts: T0 + 3000, value: 3 })
  })

  it('uses the minute roll-up, merged into wider buckets, when raw readings would exceed points', async () => {
    await using f = telemetryFixture({ now: T0 + HOUR })
    await f.writer.write(series(3600, 1000), 'http')
    const q = { device: 'pi-1', metric: 'co', from: T0, to: T0 + HOUR - 1 }
    const minutes = f.telemetry.query({ ...q, points: 100 })
    expect(minutes).toMatchObject({ resolution: '1m', source: 'minute', stepMs: 60_000 })
    expect(minutes.points).toHaveLength(60)
    expect(minutes.points[0]).toEqual({ ts: T0, value: 29.5, min: 0, max: 59, count: 60, last: 59 })

    const fives = f.telemetry.query({ ...q, points: 20 })
    expect(fives).toMatchObject({ resolution: '5m', source: 'minute' })
    expect(fives.points).toHaveLength(12)
    // Averages of merged buckets are exact: sum and count are kept, not averages of averages.
    expect(fives.points[1]).toEqual({
      ts: T0 + 300_000,
      value: 449.5,
      min: 300,
      max: 599,
      count: 300,
      last: 599,
    })
  })

  it('buckets raw readings under a minute wide for short ranges', async () => {
    await using f = telemetryFixture({ now: T0 + 600_000 })
    await f.writer.write(series(600, 1000), 'http')
    const res = f.telemetry.query({ device: 'pi-1', metric: 'co', from: T0, to: T0 + 599_999, points: 100 })
    expect(res).toMatchObject({ resolution: '10s', source: 'raw', stepMs: 10_000 })
    expect(res.points).toHaveLength(60)
    expect(res.points[59]).toEqual({
      ts: T0 + 590_000,
      value: 594.5,
      min: 590,
      max: 599,
      count: 10,
      last: 599,
    })
  })

  it('never answers more values than points', async () => {
    await using f = telemetryFixture({ now: T0 + HOUR })
    await f.writer.write(series(3600, 1000), 'http')
    for (const points of [1, 2, 7, 50, 333, 3599, 3600]) {
      const res = f.telemetry.query({
        device: 'pi-1',
        metric: 'co',
        from: T0 - 17_000,
        to: T0 + HOUR,
        points,
      })
      expect(res.points.length).toBeLessThanOrEqual(points)
      expect(res.points.length).toBeGreaterThan(0)
    }
  })

  it('reads 30 days from the hour roll-up, and ranges past raw retention never from raw readings', async () => {
    const now = T0 + 30 * DAY
    await using f = telemetryFixture({ now })
    await f.writer.write(
      series(30 * 24 * 6, 10 * 60_000, T0, () => 5),
      'http',
    )
    const month = f.telemetry.query({
      device: 'pi-1',
      metric: 'co',
      from: now - 30 * DAY,
      to: now,
      points: 1000,
    })
    expect(month).toMatchObject({ resolution: '1h', source: 'hour', stepMs: HOUR })
    expect(month.points).toHaveLength(720)
    expect(month.points[0]).toEqual({ ts: T0, value: 5, min: 5, max: 5, count: 6, last: 5 })
    // 48 raw readings would fit, but raw readings of 8 days ago may already be pruned.
    const old = f.telemetry.query({
      device: 'pi-1',
      metric: 'co',
      from: now - 8 * DAY,
      to: now - 8 * DAY + 8 * HOUR,
      points: 100,
    })
    expect(old.source).not.toBe('raw')
  })

  it('answers no points for a series that has none, and the latest value of every metric', async () => {
    await using f = telemetryFixture({ now: T0 + HOUR })
    await f.writer.write(
      [
        { device: 'pi-1', metric: 'co', ts: T0, value: 1 },
        { device: 'pi-1', metric: 'no2', ts: T0 + 5, value: 52 },
        { device: 'pi-2', metric: 'co', ts: T0 + 7, value: 3 },
      ],
      'http',
    )
    expect(
      f.telemetry.query({ device: 'pi-1', metric: 'h2', from: T0, to: T0 + HOUR, points: 10 }).points,
    ).toEqual([])
    expect(f.telemetry.latest('pi-1')).toEqual([
      { device: 'pi-1', metric: 'co', ts: T0, value: 1 },
      { device: 'pi-1', metric: 'no2', ts: T0 + 5, value: 52 },
    ])
    expect(f.telemetry.latest().map((l) => `${l.device}/${l.metric}`)).toEqual([
      'pi-1/co',
      'pi-1/no2',
      'pi-2/co',
    ])
  })
})
