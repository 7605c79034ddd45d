import { describe, expect, it } from 'bun:test'
import { waitFor } from '../helpers/wait.ts'
import { telemetryFixture } from './fixture.ts'

const DAY = 86_400_000
const T0 = Date.UTC(2025, 0, 15, 12)

describe('telemetry retention', () => {
  it('drops raw readings after 7 days and roll-ups after 2 years by default', async () => {
    await using f = telemetryFixture({ now: T0 })
    await f.writer.write(
      [
        { device: 'pi-1', metric: 'co', ts: T0 - 8 * DAY, value: 1 },
        { device: 'pi-1', metric: 'co', ts: T0 - 6 * DAY, value: 2 },
      ],
      'http',
    )
    expect(await f.telemetry.retention.prune()).toEqual({ raw: 1, minute: 0, hour: 0 })
    expect(f.raw('pi-1', 'co').map((r) => r.value)).toEqual([2])
    expect(f.rollup('hour', 'pi-1', 'co')).toHaveLength(2)

    f.clock.now = T0 - 8 * DAY + 730 * DAY + 1
    expect(await f.telemetry.retention.prune()).toEqual({ raw: 1, minute: 1, hour: 1 })
    expect(f.rollup('minute', 'pi-1', 'co').map((b) => b.sum)).toEqual([2])
    // The latest value outlives every table's retention.
    expect(f.telemetry.latest('pi-1')).toEqual([{ device: 'pi-1', metric: 'co', ts: T0 - 6 * DAY, value: 2 }])
  })

  it('follows the configured retentions, minute roll-ups on their own when set', async () => {
    await using f = telemetryFixture({
      now: T0,
      config: { rawRetention: '1d', minuteRetention: '3d', rollupRetention: '10d' },
    })
    await f.writer.write(
      [2, 5, 20].map((days, i) => ({ device: 'pi-1', metric: 'no2', ts: T0 - days * DAY, value: i })),
      'http',
    )
    expect(await f.telemetry.retention.prune()).toEqual({ raw: 3, minute: 2, hour: 1 })
    expect(f.rollup('minute', 'pi-1', 'no2').map((b) => b.sum)).toEqual([0])
    expect(f.rollup('hour', 'pi-1', 'no2').map((b) => b.sum)).toEqual([1, 0])
  })

  it('prunes when it starts, then on its interval, and stops cleanly', async () => {
    await using f = telemetryFixture({ now: T0, config: { pruneInterval: 5 } })
    const old = (value: number) => [{ device: 'pi-1', metric: 'co', ts: T0 - 30 * DAY, value }]
    await f.writer.write(old(1), 'http')
    await f.telemetry.retention.start({ signal: new AbortController().signal, fail: () => {} })
    await f.telemetry.retention.prune()
    expect(f.raw('pi-1', 'co')).toEqual([])
    await f.writer.write(old(2), 'http')
    await waitFor(() => f.raw('pi-1', 'co').length === 0, { what: 'the interval prune' })
    await f.telemetry.retention.stop()
    await f.telemetry.retention.stop()
  })
})
