// Telemetry benchmark: loads history through the storage layer, then measures
// database bytes per million readings, a 30-day hourly chart, a 24-hour raw chart (storage layer
// and through the HTTP route in-process, JSON included) and the sustained ingest rate.
// Targets: ≥ 10,000 readings/s sustained, 30-day chart < 50 ms, 24-hour chart < 150 ms.
//
// History (env to change): DEVICES=100 devices, one metric each; the last RAW_HOURS=24 hours at
// one reading per second (8.64 M readings), the HISTORY_DAYS=30 days before at one per minute.
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBus } from '../src/bus/bus.ts'
import { createApp } from '../src/http/app.ts'
import { createRequireAuth } from '../src/http/auth/middleware.ts'
import { createTelemetryRoutes } from '../src/http/routes/telemetry.ts'
import { silentLogger } from '../src/log.ts'
import { openStore } from '../src/store/open.ts'
import { createToken } from '../src/store/tokens.ts'
import { telemetryConfigSchema } from '../src/telemetry/config.ts'
import type { Reading } from '../src/telemetry/reading.ts'
import { createTelemetry } from '../src/telemetry/telemetry.ts'

const DEVICES = Number(process.env.DEVICES ?? 100)
const RAW_HOURS = Number(process.env.RAW_HOURS ?? 24)
const HISTORY_DAYS = Number(process.env.HISTORY_DAYS ?? 30)
const SUSTAIN_S = Number(process.env.SUSTAIN_S ?? 10)
const CHUNK = 100_000

const HOUR = 3_600_000
const DAY = 24 * HOUR
const out = (s: string) => process.stdout.write(`${s}\n`)
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-telemetry-'))
const { db, path } = openStore(dir)
const log = silentLogger()
// The clock stands at the end of the loaded history.
const END = Date.UTC(2025, 0, 31)
let clock = END
const bus = createBus(log, () => clock)
const config = telemetryConfigSchema.parse({})
const telemetry = createTelemetry({ db, bus, log, config, now: () => clock })
await telemetry.writer.start({ signal: new AbortController().signal, fail: () => {} })

async function load(from: number, to: number, everyMs: number): Promise<number> {
  let batch: Reading[] = []
  let count = 0
  const pending: Promise<unknown>[] = []
  for (let ts = from; ts < to; ts += everyMs) {
    for (let d = 0; d < DEVICES; d++)
      batch.push({ device: `sensor-${d}`, metric: 'co', ts, value: 20 + (d % 7) + (ts % 997) / 100 })
    if (batch.length >= CHUNK) {
      count += batch.length
      pending.push(telemetry.writer.write(batch, 'api'))
      batch = []
      // One big transaction per chunk: wait for it so memory stays flat.
      await Promise.all(pending.splice(0))
    }
  }
  count += batch.length
  await telemetry.writer.write(batch, 'api')
  return count
}

function fileBytes(): number {
  db.run('PRAGMA wal_checkpoint(TRUNCATE)')
  return statSync(path).size
}

const rawFrom = END - RAW_HOURS * HOUR
let t = performance.now()
const older = await load(rawFrom - HISTORY_DAYS * DAY, rawFrom, 60_000)
const olderBytes = fileBytes()
const recent = await load(rawFrom, END, 1000)
const loadS = (performance.now() - t) / 1000
const total = older + recent
out(
  `telemetry: loaded ${fmt(total)} readings (${DEVICES} devices: ${HISTORY_DAYS} d at 1/min + ${RAW_HOURS} h at 1/s) in ${loadS.toFixed(1)} s (${fmt(total / loadS)} readings/s in ${fmt(CHUNK)}-reading transactions)`,
)

const bytes = fileBytes()
const perReading = (n: number) => `${n.toFixed(1)} bytes/reading = ${n.toFixed(1)} MB per million readings`
out(
  `telemetry: database ${(bytes / 1e6).toFixed(1)} MB for all ${fmt(total)} readings: ${perReading(bytes / total)}`,
)
out(
  `telemetry: the ${RAW_HOURS} h at 1 reading/s alone grew it ${((bytes - olderBytes) / 1e6).toFixed(1)} MB: ${perReading((bytes - olderBytes) / recent)} (raw + minute + hour roll-ups; at 1/min every reading also has its own minute roll-up row)`,
)

function timeIt(runs: number, fn: () => unknown): { median: number; max: number; result: unknown } {
  const times: number[] = []
  let result: unknown
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    result = fn()
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  return { median: times[Math.floor(times.length / 2)]!, max: times.at(-1)!, result }
}

const device = `sensor-${Math.floor(DEVICES / 2)}`
const month = timeIt(21, () =>
  telemetry.query({ device, metric: 'co', from: END - 30 * DAY, to: END, points: 1000 }),
)
const monthRes = month.result as ReturnType<typeof telemetry.query>
out(
  `telemetry: 30-day chart (${monthRes.source}, ${monthRes.resolution}, ${monthRes.points.length} points): median ${month.median.toFixed(2)} ms, max ${month.max.toFixed(2)} ms — target < 50 ms`,
)
const day = timeIt(11, () =>
  telemetry.query({ device, metric: 'co', from: END - DAY, to: END - 1, points: 200_000 }),
)
const dayRes = day.result as ReturnType<typeof telemetry.query>
out(
  `telemetry: 24-hour chart (${dayRes.source}, ${fmt(dayRes.points.length)} points): median ${day.median.toFixed(1)} ms, max ${day.max.toFixed(1)} ms — target < 150 ms`,
)

// The same charts as a browser gets them: route, auth, validation, JSON.
const { secret } = createToken(db, { name: 'bench', scope: 'read' })
const app = createApp({
  log,
  maxBodyBytes: 1024 * 1024,
  corsOrigins: [],
  readiness: [],
  api: [
    {
      path: '/telemetry',
      router: createTelemetryRoutes({ telemetry, requireAuth: createRequireAuth({ db }) }),
    },
  ],
})
async function timeHttp(runs: number, url: string) {
  const times: number[] = []
  let bytesOut = 0
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    const res = await app.request(url, { headers: { authorization: `Bearer ${secret}` } })
    bytesOut = (await res.arrayBuffer()).byteLength
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  return { median: times[Math.floor(times.length / 2)]!, bytesOut }
}
const monthHttp = await timeHttp(
  21,
  `/api/v1/telemetry?device=${device}&metric=co&from=${END - 30 * DAY}&to=${END}`,
)
const dayHttp = await timeHttp(
  11,
  `/api/v1/telemetry?device=${device}&metric=co&from=${END - DAY}&to=${END - 1}&points=200000`,
)
out(
  `telemetry: via GET /api/v1/telemetry: 30-day ${monthHttp.median.toFixed(2)} ms (${fmt(monthHttp.bytesOut)} B), 24-hour raw ${dayHttp.median.toFixed(1)} ms (${fmt(dayHttp.bytesOut)} B JSON)`,
)

// Sustained ingest: one-reading writes from every device, as concurrent requests would make them,
// each event-loop turn one group commit, on top of the history above.
const before = telemetry.writer.stats()
let ts = END
let written = 0
t = performance.now()
const deadline = t + SUSTAIN_S * 1000
while (performance.now() < deadline) {
  const writes: Promise<unknown>[] = []
  for (let i = 0; i < 10; i++) {
    ts += 1000
    for (let d = 0; d < DEVICES; d++)
      writes.push(telemetry.writer.write([{ device: `sensor-${d}`, metric: 'co', ts, value: d }], 'http'))
  }
  clock = ts
  await Promise.all(writes)
  written += writes.length
}
const sustainS = (performance.now() - t) / 1000
const after = telemetry.writer.stats()
const rate = written / sustainS
out(
  `telemetry: sustained ingest ${fmt(rate)} readings/s (${fmt(written)} one-reading writes in ${sustainS.toFixed(1)} s, ${fmt(after.commits - before.commits)} group commits, roll-ups and events included) — target ≥ 10,000/s`,
)

await telemetry.writer.stop()
db.close()
rmSync(dir, { recursive: true, force: true })
