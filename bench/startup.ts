// Startup benchmark: time from spawning dist/hearth to /healthz answering, idle RSS after 5 s,
// binary size. Targets: start < 300 ms, idle RSS < 70 MB.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureBinary } from '../test/helpers/binary.ts'

const RUNS = Number(process.env.RUNS ?? 5)
const out = (s: string) => process.stdout.write(`${s}\n`)

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = s.port
  s.stop(true)
  return port
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return kb / 1024
}

async function once(binary: string, measureRss: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-'))
  const httpPort = await freePort()
  const mqttPort = await freePort()
  const t0 = performance.now()
  const proc = Bun.spawn([binary], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      HEARTH_HTTP_PORT: String(httpPort),
      HEARTH_MQTT_PORT: String(mqttPort),
    },
    stdout: 'ignore',
    stderr: 'ignore',
  })
  let startMs = Number.NaN
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`)
      if (res.status === 200) {
        startMs = performance.now() - t0
        break
      }
    } catch {
      // not listening yet
    }
    if (performance.now() - t0 > 10_000) break
  }
  let rss = Number.NaN
  if (measureRss) {
    await Bun.sleep(5000)
    rss = rssMb(proc.pid)
  }
  proc.kill('SIGTERM')
  await proc.exited
  rmSync(dir, { recursive: true, force: true })
  return { startMs, rss }
}

const binary = ensureBinary()
const starts: number[] = []
let rss = Number.NaN
for (let i = 0; i < RUNS; i++) {
  const r = await once(binary, i === RUNS - 1)
  starts.push(r.startMs)
  if (i === RUNS - 1) rss = r.rss
}
starts.sort((a, b) => a - b)
const median = starts[Math.floor(starts.length / 2)]!
const sizeMb = statSync(binary).size / 1024 / 1024
out(
  `startup: spawn → /healthz 200, median of ${RUNS}: ${median.toFixed(0)} ms (min ${starts[0]!.toFixed(0)}, max ${starts.at(-1)!.toFixed(0)}) — target < 300 ms`,
)
out(`startup: idle RSS after 5 s: ${rss.toFixed(1)} MB — target < 70 MB`)
out(`startup: binary size: ${sizeMb.toFixed(1)} MB`)
