import { Database } from 'bun:sqlite'
import { createBus } from '../../src/bus/bus.ts'
import { silentLogger } from '../../src/log.ts'
import type { AnyHubEvent } from '../../src/protocol.ts'
import { migrate } from '../../src/store/migrate.ts'
import { telemetryConfigSchema } from '../../src/telemetry/config.ts'
import { createTelemetry } from '../../src/telemetry/telemetry.ts'

/** Telemetry over a migrated in-memory database with a settable clock; the writer is started. */
export function telemetryFixture(opts: { now?: number; config?: Record<string, unknown> } = {}) {
  const clock = { now: opts.now ?? Date.UTC(2025, 0, 15, 12) }
  const db = new Database(':memory:', { strict: true })
  migrate(db)
  const log = silentLogger()
  const bus = createBus(log, () => clock.now)
  const events: AnyHubEvent[] = []
  bus.onAny('test', (e) => events.push(e))
  const config = telemetryConfigSchema.parse(opts.config ?? {})
  const telemetry = createTelemetry({ db, bus, log, config, now: () => clock.now })
  const abort = new AbortController()
  void telemetry.writer.start({
    signal: abort.signal,
    fail: (err) => {
      throw err
    },
  })
  return {
    db,
    bus,
    clock,
    events,
    telemetry,
    writer: telemetry.writer,
    /** Raw rows of a device's metric, oldest first. */
    raw(device: string, metric: string) {
      return db
        .query(
          `SELECT r.ts, r.value FROM telemetry_raw r JOIN telemetry_series s ON s.id = r.series
           WHERE s.device = ? AND s.metric = ? ORDER BY r.ts`,
        )
        .all(device, metric) as { ts: number; value: number }[]
    },
    /** Minute or hour buckets of a device's metric (closed and open), oldest first. */
    rollup(width: 'minute' | 'hour', device: string, metric: string) {
      const series = telemetry.store.findSeries(device, metric)
      if (series === undefined) return []
      return telemetry.store
        .selectBuckets(width === 'minute' ? 60_000 : 3_600_000, series, 0, Number.MAX_SAFE_INTEGER)
        .map(({ bucket, min, max, sum, count, last }) => ({ bucket, min, max, sum, count, last }))
    },
    async [Symbol.asyncDispose]() {
      await telemetry.retention.stop()
      await telemetry.writer.stop()
      abort.abort()
      db.close()
    },
  }
}
