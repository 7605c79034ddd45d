import { describe, expect, it } from 'bun:test'
import { silentLogger } from '../../src/log.ts'
import { telemetryConfigSchema } from '../../src/telemetry/config.ts'
import type { Reading } from '../../src/telemetry/reading.ts'
import { createTelemetry } from '../../src/telemetry/telemetry.ts'
import { telemetryFixture } from './fixture.ts'

const T0 = Date.UTC(2025, 0, 15, 12, 0, 0)
const r = (metric: string, ts: number, value: number, device = 'pi-1'): Reading => ({
  device,
  metric,
  ts,
  value,
})

describe('telemetry writer', () => {
  it('commits every write of one event-loop turn in one transaction and resolves after it', async () => {
    await using f = telemetryFixture()
    const writes = Array.from({ length: 50 }, (_, i) => f.writer.write([r('co', T0 + i, i)], 'http'))
    // Nothing is in the table before the turn ends: callers are answered only after the commit.
    expect(f.raw('pi-1', 'co')).toEqual([])
    const results = await Promise.all(writes)
    expect(results.every((x) => x.storedCount === 1)).toBe(true)
    expect(f.writer.stats()).toEqual({ commits: 1, stored: 50 })
    expect(f.raw('pi-1', 'co')).toHaveLength(50)
  })

  it('keeps minute and hour roll-ups (min, max, sum, count, last) in step with raw readings', async () => {
    await using f = telemetryFixture()
    await f.writer.write(
      [r('no2', T0 + 1_000, 50), r('no2', T0 + 30_000, 90), r('no2', T0 + 61_000, 70)],
      'http',
    )
    // A late reading for the first minute: counted, but not its "last" (an older time).
    await f.writer.write([r('no2', T0 + 500, 10)], 'mqtt')
    expect(f.rollup('minute', 'pi-1', 'no2')).toEqual([
      { bucket: T0, min: 10, max: 90, sum: 150, count: 3, last: 90 },
      { bucket: T0 + 60_000, min: 70, max: 70, sum: 70, count: 1, last: 70 },
    ])
    expect(f.rollup('hour', 'pi-1', 'no2')).toEqual([
      { bucket: T0, min: 10, max: 90, sum: 220, count: 4, last: 70 },
    ])
    expect(f.telemetry.latest('pi-1')).toEqual([
      { device: 'pi-1', metric: 'no2', ts: T0 + 61_000, value: 70 },
    ])
  })

  it('continues an open minute after a restart, from what the table holds', async () => {
    await using f = telemetryFixture()
    await f.writer.write([r('co', T0 + 1_000, 4)], 'http')
    await f.writer.stop()
    const again = createTelemetry({
      db: f.db,
      bus: f.bus,
      log: silentLogger(),
      config: telemetryConfigSchema.parse({}),
    })
    await again.writer.start({ signal: new AbortController().signal, fail: () => {} })
    await again.writer.write([r('co', T0 + 2_000, 6), r('co', T0 + 60_000, 1)], 'http')
    await again.writer.stop()
    expect(f.rollup('minute', 'pi-1', 'co')).toEqual([
      { bucket: T0, min: 4, max: 6, sum: 10, count: 2, last: 6 },
      { bucket: T0 + 60_000, min: 1, max: 1, sum: 1, count: 1, last: 1 },
    ])
  })

  it('stores a repeated reading (same device, metric and ms) once and counts it once', async () => {
    await using f = telemetryFixture()
    const first = await f.writer.write([r('co', T0, 26.2)], 'http')
    const again = await f.writer.write([r('co', T0, 99), r('co', T0 + 1, 27)], 'http')
    expect(first.stored).toEqual([true])
    expect(again).toEqual({ stored: [false, true], storedCount: 1 })
    expect(f.raw('pi-1', 'co')).toEqual([
      { ts: T0, value: 26.2 },
      { ts: T0 + 1, value: 27 },
    ])
    expect(f.rollup('minute', 'pi-1', 'co')[0]?.count).toBe(2)
  })

  it('emits one telemetry.reading per stored reading, after the commit', async () => {
    await using f = telemetryFixture()
    const seen: number[] = []
    f.bus.on('probe', 'telemetry.reading', () => seen.push(f.raw('pi-1', 'h2').length))
    await f.writer.write([r('h2', T0, 400), r('h2', T0 + 1, 401)], 'http')
    await f.writer.write([r('h2', T0, 400)], 'http')
    expect(seen).toEqual([2, 2])
    expect(f.events.filter((e) => e.type === 'telemetry.reading').map((e) => [e.subject, e.detail])).toEqual([
      ['pi-1', { device: 'pi-1', metric: 'h2', value: 400, ts: T0, source: 'http' }],
      ['pi-1', { device: 'pi-1', metric: 'h2', value: 401, ts: T0 + 1, source: 'http' }],
    ])
  })

  it('refuses a malformed reading without failing the other writes of its batch', async () => {
    await using f = telemetryFixture()
    const good = f.writer.write([r('co', T0, 1)], 'http')
    const bad = f.writer.write([r('co', T0 + 1, Number.NaN)], 'http')
    await expect(bad).rejects.toThrow(TypeError)
    expect((await good).storedCount).toBe(1)
  })

  it('commits what is buffered when it stops, and refuses writes after', async () => {
    await using f = telemetryFixture()
    const pending = f.writer.write([r('co', T0, 5)], 'http')
    await f.writer.stop()
    expect((await pending).storedCount).toBe(1)
    await expect(f.writer.write([r('co', T0 + 1, 5)], 'http')).rejects.toThrow('not running')
  })
})
