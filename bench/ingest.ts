// Ingest benchmark: `POST /ingest/:device` with and without storage, side by
// side. Both servers run the same route (Basic auth, body checks, events); one stores through the
// telemetry group commit and answers after the commit, the other drops the readings. The load comes
// from a child process (this file with `--load`): concurrent keep-alive fetches, source (d)'s body
// with four readings and a unique ts per request. Target: with storage ≥ 0.8× without.
//
// Env: SECONDS=8 per run, ROUNDS=5 (alternating which server goes first), CONNECTIONS=64, DEVICES=8,
// WAL_AUTOCHECKPOINT=<pages> to try another checkpoint interval than SQLite's 1000 pages (most of a
// commit's cost under load is the checkpoint's fsyncs, which this interval spaces out).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBus } from '../src/bus/bus.ts'
import { createDevice } from '../src/devices/registry.ts'
import { createApp } from '../src/http/app.ts'
import { createIngestRoutes } from '../src/http/routes/ingest.ts'
import { silentLogger } from '../src/log.ts'
import { openStore } from '../src/store/open.ts'
import { createTelemetryStore } from '../src/telemetry/store.ts'
import { createTelemetryWriter, type TelemetryWriter as Writer } from '../src/telemetry/writer.ts'

const out = (s: string) => process.stdout.write(`${s}\n`)

interface LoadResult {
  requests: number
  errors: number
  seconds: number
  p50: number
  p99: number
}

if (process.argv[2] === '--load') await load(process.argv.slice(3))
else await main()

async function load(args: string[]): Promise<void> {
  const [url, seconds, connections, targetsJson, runNumber] = args
  const targets = JSON.parse(targetsJson ?? '[]') as Array<{ device: string; authorization: string }>
  const conns = Number(connections)
  // Each run gets its own time range: a repeated (device, metric, ts) would not be stored again.
  const base = Date.UTC(2020, 0, 1) + Number(runNumber) * 1e9
  const latencies: number[] = []
  let errors = 0
  const start = performance.now()
  const deadline = start + Number(seconds) * 1000
  const worker = async (w: number) => {
    const target = targets[w % targets.length]!
    const headers = { 'content-type': 'application/json', authorization: target.authorization }
    for (let i = 0; performance.now() < deadline; i++) {
      // Unique per device across workers, so every reading is stored (no repeats).
      const body = JSON.stringify({
        groupid: '2',
        co: { sensorid: '0005', value: '26.20' },
        no2: { sensorid: '0006', value: 52 + (i % 40) },
        c2h5oh: { sensorid: '0007', value: '26.11' },
        h2: { sensorid: '0008', value: '400' },
        ts: base + i * conns + w,
      })
      const t0 = performance.now()
      const res = await fetch(`${url}/ingest/${target.device}`, { method: 'POST', headers, body })
      await res.arrayBuffer()
      latencies.push(performance.now() - t0)
      if (res.status !== 202) errors++
    }
  }
  await Promise.all(Array.from({ length: conns }, (_, w) => worker(w)))
  const elapsed = (performance.now() - start) / 1000
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0
  const result: LoadResult = {
    requests: latencies.length,
    errors,
    seconds: elapsed,
    p50: at(0.5),
    p99: at(0.99),
  }
  process.stdout.write(JSON.stringify(result))
}

async function main(): Promise<void> {
  const SECONDS = Number(process.env.SECONDS ?? 8)
  const ROUNDS = Number(process.env.ROUNDS ?? 5)
  const CONNECTIONS = Number(process.env.CONNECTIONS ?? 64)
  const DEVICES = Number(process.env.DEVICES ?? 8)

  const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-ingest-'))
  const { db } = openStore(dir)
  const walPages = Number(process.env.WAL_AUTOCHECKPOINT ?? 0)
  if (walPages) db.run(`PRAGMA wal_autocheckpoint = ${walPages}`)
  const log = silentLogger()
  const bus = createBus(log)
  const writer = createTelemetryWriter({ store: createTelemetryStore(db), bus, log })
  await writer.start({ signal: new AbortController().signal, fail: () => {} })
  // The baseline: everything but storage; it answers at once, as if the commit were free.
  const discard: Pick<Writer, 'write'> = {
    write: async (readings) => ({ stored: readings.map(() => true), storedCount: readings.length }),
  }

  const targets: Array<{ device: string; authorization: string }> = []
  for (let d = 0; d < DEVICES; d++) {
    const { credentials } = await createDevice(db, { id: `gas-${d}` })
    const basic = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')
    targets.push({ device: credentials.id, authorization: `Basic ${basic}` })
  }

  const serve = (w: Pick<Writer, 'write'>) => {
    const app = createApp({
      log,
      maxBodyBytes: 1024 * 1024,
      corsOrigins: [],
      readiness: [],
      routes: [{ path: '/ingest', router: createIngestRoutes({ db, bus, writer: w }) }],
    })
    return Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: app.fetch })
  }
  const servers = { 'with storage': serve(writer), 'without storage': serve(discard) }

  let runs = 0
  const run = async (name: keyof typeof servers, seconds: number): Promise<LoadResult> => {
    const proc = Bun.spawn(
      [
        process.execPath,
        import.meta.path,
        '--load',
        servers[name].url.origin,
        String(seconds),
        String(CONNECTIONS),
        JSON.stringify(targets),
        String(runs++),
      ],
      { stdout: 'pipe', stderr: 'inherit' },
    )
    const text = await new Response(proc.stdout).text()
    await proc.exited
    return JSON.parse(text) as LoadResult
  }

  // Warm-up: argon2id verification once per device (then cached), JIT, connections.
  await run('with storage', 1)
  await run('without storage', 1)

  const rates: Record<keyof typeof servers, number[]> = { 'with storage': [], 'without storage': [] }
  for (let r = 0; r < ROUNDS; r++) {
    const order: Array<keyof typeof servers> =
      r % 2 ? ['with storage', 'without storage'] : ['without storage', 'with storage']
    for (const name of order) {
      const before = writer.stats()
      const res = await run(name, SECONDS)
      const rate = res.requests / res.seconds
      rates[name].push(rate)
      const after = writer.stats()
      const commits = after.commits - before.commits
      const extra =
        name === 'with storage'
          ? `, ${Math.round((after.stored - before.stored) / res.seconds).toLocaleString('en-US')} readings/s stored in ${commits} commits (${((after.stored - before.stored) / Math.max(commits, 1)).toFixed(0)} readings each)`
          : ''
      out(
        `ingest: round ${r + 1} ${name.padEnd(15)} ${Math.round(rate).toLocaleString('en-US')} req/s, p50 ${res.p50.toFixed(2)} ms, p99 ${res.p99.toFixed(2)} ms, ${res.errors} errors${extra}`,
      )
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const withS = median(rates['with storage'])
  const without = median(rates['without storage'])
  out(
    `ingest: median of ${ROUNDS}: with storage ${Math.round(withS).toLocaleString('en-US')} req/s, without ${Math.round(without).toLocaleString('en-US')} req/s → ratio ${(withS / without).toFixed(2)}× — target ≥ 0.8× (${CONNECTIONS} connections, 4 readings per request, wal_autocheckpoint ${walPages || 'default (1000 pages)'})`,
  )

  for (const s of Object.values(servers)) s.stop(true)
  await writer.stop()
  db.close()
  rmSync(dir, { recursive: true, force: true })
}
