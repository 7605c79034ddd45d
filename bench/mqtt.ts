// MQTT benchmark: the hub's broker (dist/hearth, default plugins and SQLite store) against Debian's mosquitto,
// each scenario run against both in this one invocation, with the ratio hub/mosquitto.
//   - connection storm: 5,000 clients connect + subscribe: time, broker CPU, memory per connection;
//   - latency p50/p99 at 1,000 msg/s (QoS 0, one publisher, one subscriber);
//   - fan-in QoS 0 and QoS 1: 8 publishers → 1 subscriber, 64-byte payloads (QoS 1: every
//     PUBACKed message is counted at the subscriber);
//   - fan-in again with MQTT 5 clients, every PUBLISH with a topic alias and a user property;
//   - fan-out 1 → 10 and 1 → 100 (deliveries/s).
// Targets: fan-in QoS 0 ≥ 3× mosquitto, QoS 1 ≥ 1.5× and no loss, fan-out 1 → 100 ≥ 2×,
// ≤ 4 KiB per idle connection, storm time and latency p99 no worse than mosquitto's, MQTT 5
// within 20% of 3.1.1.
//
// The load comes from bench/mqtt/worker.ts processes (raw MQTT over Bun's TCP sockets), each
// reporting its own CPU: a client near 100% of a core is marked "saturated", its broker figure
// is then a floor. Everything talks to 127.0.0.1, every phase is bounded in time, and every
// process started here is stopped at the end, also on failure.
//
// Env: DURATION_S=3 (per throughput run), ROUNDS=3 (throughput runs per broker; the table gives
// the median), LATENCY_S=10 (per latency round), LATENCY_ROUNDS=3, LATENCY_BURST=100000, STORM=5000, MAX_S=480 (whole run), ONLY=storm,latency,fanin0,fanin0v5
// (only these scenarios, by name, and only the targets they tell).
import { join } from 'node:path'
import {
  ensureMosquitto,
  loadAverage,
  machineBusyMs,
  processCpuMs,
  rssKiB,
  startFloor,
  startHub,
  startMosquitto,
  type Target,
} from './mqtt/brokers.ts'
import type { CpuFigure, WorkerReport, WorkerSpec } from './mqtt/worker.ts'

const DURATION_MS = Number(process.env.DURATION_S ?? 3) * 1000
const ROUNDS = Number(process.env.ROUNDS ?? 3)
const WARMUP_MS = 1000
const LATENCY_MS = Number(process.env.LATENCY_S ?? 10) * 1000
const LATENCY_ROUNDS = Number(process.env.LATENCY_ROUNDS ?? 3)
const LATENCY_WARMUP_MS = 2000
const LATENCY_BURST = Number(process.env.LATENCY_BURST ?? 100_000)
const STORM = Number(process.env.STORM ?? 5000)
const MAX_MS = Number(process.env.MAX_S ?? 480) * 1000
const ONLY = process.env.ONLY ? new Set(process.env.ONLY.split(',').map((s) => s.trim())) : undefined
const PAYLOAD = 64
const WORKER = join(import.meta.dir, 'mqtt', 'worker.ts')

const out = (s: string) => process.stdout.write(`${s}\n`)
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const pct = (n: number) => `${Math.round(n)}%`
const epoch = () => performance.timeOrigin + performance.now()

type ReportOf<T extends WorkerReport['type']> = Extract<WorkerReport, { type: T }>

/** A load-generator process; its reports arrive as JSON lines. */
class Worker {
  readonly proc: Bun.Subprocess<'pipe', 'pipe', 'pipe'>
  private readonly reports: WorkerReport[] = []
  private wake: (() => void) | undefined
  private stderr = ''
  private exited = false

  constructor(
    readonly label: string,
    spec: WorkerSpec,
  ) {
    this.proc = Bun.spawn([process.execPath, WORKER, JSON.stringify(spec)], {
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
    })
    workers.add(this)
    void this.read()
    void new Response(this.proc.stderr).text().then((t) => {
      this.stderr = t
    })
    void this.proc.exited.then(() => {
      this.exited = true
      workers.delete(this)
      this.wake?.()
    })
  }

  private async read() {
    const decoder = new TextDecoder()
    let partial = ''
    for await (const chunk of this.proc.stdout) {
      const lines = (partial + decoder.decode(chunk, { stream: true })).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) if (line) this.reports.push(JSON.parse(line) as WorkerReport)
      this.wake?.()
    }
  }

  async next<T extends WorkerReport['type']>(type: T, timeoutMs = 30_000): Promise<ReportOf<T>> {
    const deadline = performance.now() + timeoutMs
    for (;;) {
      const i = this.reports.findIndex((r) => r.type === type || r.type === 'error')
      if (i >= 0) {
        const r = this.reports.splice(i, 1)[0]!
        if (r.type === 'error') throw new Error(`${this.label}: ${r.message}`)
        return r as ReportOf<T>
      }
      if (this.exited) {
        await Bun.sleep(50)
        throw new Error(`${this.label} exited (${this.proc.exitCode}) before '${type}': ${this.stderr}`)
      }
      if (performance.now() > deadline) throw new Error(`${this.label}: no '${type}' in ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        this.wake = resolve
        setTimeout(resolve, 100)
      })
    }
  }

  send(command: string): void {
    this.proc.stdin.write(`${command}\n`)
    this.proc.stdin.flush()
  }

  stop(): void {
    if (!this.exited) this.proc.kill('SIGKILL')
  }
}

const workers = new Set<Worker>()
const brokers: Target<string>[] = []

let cleaning: Promise<void> | undefined
/** Stops every worker and broker; a signal, the watchdog and main() all wait for the same stop. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const w of workers) w.stop()
    for (const b of brokers.splice(0)) {
      try {
        await b[Symbol.asyncDispose]()
      } catch {
        // keep stopping the others
      }
    }
  })()
  return cleaning
}

/** CPU of a worker as a share of one core; a client near 100% holds the figures down. */
function clientCpu(label: string, f: CpuFigure): string {
  const p = (100 * f.cpuMs) / Math.max(1, f.wallMs)
  return `${label} ${pct(p)}${p >= 90 ? ' (saturated)' : ''}`
}

/** Broker CPU, and what the rest of the machine (other engineers' work) used, over one run. */
function startMeter(t: Target<string>) {
  const broker0 = processCpuMs(t.pid)
  const machine0 = machineBusyMs()
  const own0 = process.cpuUsage()
  const t0 = performance.now()
  return {
    t0,
    stop(workersCpuMs: number, busyUntil = performance.now()) {
      const brokerMs = processCpuMs(t.pid) - broker0
      const ownU = process.cpuUsage(own0)
      const wall = performance.now() - t0
      const others = machineBusyMs() - machine0 - brokerMs - workersCpuMs - (ownU.user + ownU.system) / 1000
      return {
        brokerMs,
        brokerPct: (100 * brokerMs) / Math.max(1, busyUntil - t0),
        othersPct: (100 * Math.max(0, others)) / wall,
      }
    },
  }
}

interface Row {
  scenario: string
  unit: string
  /** Throughput: higher is better; time, CPU, memory and latency: lower is. */
  higherIsBetter: boolean
  /** One figure per round; hub and mosquitto of one round ran back to back. */
  hub: number[]
  mosquitto: number[]
}
const rows: Row[] = []
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
/** The median of the rounds' ratios: each pair shared the machine's load of its moment. */
const ratioOf = (r: Row) => median(r.hub.map((h, i) => h / r.mosquitto[i]!))
function record(row: Row) {
  rows.push(row)
  out(`  → ${row.scenario}: hub/mosquitto = ${ratioOf(row).toFixed(2)}`)
}

// ---- scenarios

async function storm(t: Target) {
  const perWorker = Math.ceil(STORM / 2)
  const ws = [0, 1].map(
    (i) =>
      new Worker(`storm ${i}`, {
        role: 'storm',
        port: t.port,
        prefix: `storm-${t.name}`,
        deadlineMs: 90_000,
        conns: Math.min(perWorker, STORM - i * perWorker),
        firstIndex: i * perWorker,
        concurrency: 50,
        keepaliveS: 60,
      }),
  )
  await Promise.all(ws.map((w) => w.next('ready')))
  await Bun.sleep(1000)
  const rss0 = rssKiB(t.pid)
  const meter = startMeter(t)
  for (const w of ws) w.send('go')
  const res = await Promise.all(ws.map((w) => w.next('connected', 60_000)))
  const ms = performance.now() - meter.t0
  const m = meter.stop(res.reduce((a, r) => a + r.cpuMs, 0))
  // Idle connections: let the broker settle, then read its memory.
  await Bun.sleep(2000)
  const rss1 = rssKiB(t.pid)
  const ok = res.reduce((a, r) => a + r.ok, 0)
  const failed = res.reduce((a, r) => a + r.failed, 0)
  const perConn = (rss1 - rss0) / Math.max(1, ok)
  for (const w of ws) w.send('close')
  await Promise.all(ws.map((w) => w.next('closed', 15_000)))
  out(
    `  ${t.name}: ${fmt(ok)} connected + subscribed in ${fmt(ms)} ms (${fmt((ok * 1000) / ms)}/s, slowest ${fmt(Math.max(...res.map((r) => r.slowestMs)))} ms${failed ? `, ${failed} FAILED: ${res.flatMap((r) => r.errors).join('; ')}` : ''}); broker CPU ${(m.brokerMs / 1000).toFixed(2)} s (${fmt((1000 * m.brokerMs) / Math.max(1, ok))} µs/connection, ${pct(m.brokerPct)} of a core); RSS ${fmt(rss0 / 1024)} → ${fmt(rss1 / 1024)} MiB = ${perConn.toFixed(1)} KiB per idle connection; clients: ${res.map((r, i) => clientCpu(`storm${i}`, r)).join(', ')}; others ${pct(m.othersPct)}; load ${loadAverage()}`,
  )
  return { ms, cpuMs: m.brokerMs, perConn, failed }
}

async function latency(t: Target<string>, round: string) {
  const w = new Worker('latency', {
    role: 'latency',
    port: t.port,
    prefix: `latency-${t.name}`,
    deadlineMs: 60_000,
    rate: 1000,
    burst: LATENCY_BURST,
    warmupMs: LATENCY_WARMUP_MS,
    durationMs: LATENCY_MS,
    qos: 0,
    payload: PAYLOAD,
  })
  await w.next('ready')
  const meter = startMeter(t)
  w.send('go')
  const r = await w.next('latency', LATENCY_WARMUP_MS + LATENCY_MS + 30_000)
  const m = meter.stop(r.cpuMs)
  const s = r.samples.sort((a, b) => a - b)
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN
  const p50 = q(0.5)
  const p99 = q(0.99)
  out(
    `  ${round} ${t.name}: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${(s.at(-1) ?? Number.NaN).toFixed(2)} ms (${fmt(r.received)}/${fmt(r.sent)} received); broker CPU ${pct(m.brokerPct)}; clients: ${clientCpu('pub+sub', r)}; others ${pct(m.othersPct)}; load ${loadAverage()}`,
  )
  return { p50, p99 }
}

interface FlowOptions {
  name: string
  /** Connections per publisher process and per subscriber process. */
  pubs: number[]
  subs: number[]
  qos: 0 | 1
  /** Count each publisher's sequence numbers at the subscriber (one subscriber connection per process). */
  track: boolean
  /** MQTT 5 clients; every PUBLISH with a topic alias and a user property. */
  v5?: boolean
}

async function flow(t: Target, o: FlowOptions, round: string, durationMs = DURATION_MS) {
  const topic = `bench/${o.name}`
  const prefix = `${o.name}-${round}-${t.name}`
  const subs = o.subs.map(
    (conns, i) =>
      new Worker(`sub ${i}`, {
        role: 'sub',
        port: t.port,
        prefix: `${prefix}-s${i}`,
        deadlineMs: durationMs + 60_000,
        conns,
        filter: topic,
        qos: o.qos,
        track: o.track,
        v5: o.v5 === true,
      }),
  )
  await Promise.all(subs.map((w) => w.next('ready')))
  let first = 0
  const pubs = o.pubs.map((conns, i) => {
    const w = new Worker(`pub ${i}`, {
      role: 'pub',
      port: t.port,
      prefix,
      deadlineMs: durationMs + 60_000,
      conns,
      firstIndex: first,
      topic,
      qos: o.qos,
      payload: PAYLOAD,
      durationMs,
      window: 64,
      v5: o.v5 === true,
    })
    first += conns
    return w
  })
  await Promise.all(pubs.map((w) => w.next('ready')))
  const meter = startMeter(t)
  const goAt = epoch()
  for (const w of [...subs, ...pubs]) w.send('go')
  const published = await Promise.all(pubs.map((w) => w.next('published', durationMs + 30_000)))
  const sent = published.reduce((a, r) => a + r.sent, 0)
  const unacked = published.reduce((a, r) => a + r.unacked, 0)
  const subConns = o.subs.reduce((a, b) => a + b, 0)
  const listed = o.track ? Object.assign({}, ...published.map((r) => r.perPublisher)) : undefined
  for (const [i, w] of subs.entries()) {
    const expected = sent * (o.subs[i] ?? 1)
    w.send(`finish ${JSON.stringify({ expected, idleMs: o.qos ? 2000 : 1000, maxMs: 10_000, listed })}`)
  }
  const received = await Promise.all(subs.map((w) => w.next('received', 60_000)))
  const firstAt = Math.min(...received.filter((r) => r.count).map((r) => r.first))
  const lastAt = Math.max(...received.map((r) => r.last))
  const count = received.reduce((a, r) => a + r.count, 0)
  const unique = received.reduce((a, r) => a + r.unique, 0)
  const duplicates = received.reduce((a, r) => a + r.duplicates, 0)
  const rate = count > 1 ? (count * 1000) / Math.max(1, lastAt - firstAt) : 0
  const cpuAll = [...published, ...received].reduce((a, r) => a + r.cpuMs, 0)
  const m = meter.stop(cpuAll, meter.t0 + Math.max(1, lastAt - goAt))
  const expected = sent * subConns
  // PUBACKs come in order [MQTT-4.6.0-2]: publisher p's acknowledged messages are its sequence
  // numbers 0..acked-1, and the subscriber counts which of those never arrived.
  const lost = received.reduce((a, r) => a + r.missing, 0)
  const delivery =
    o.qos === 1
      ? `${fmt(sent - unacked)} PUBACKed${unacked ? ` (${fmt(unacked)} more sent, never acknowledged)` : ''}, ${fmt(unique)} distinct received, lost ${fmt(lost)} of the PUBACKed, duplicates ${fmt(duplicates)}`
      : `${fmt(count)} of ${fmt(expected)} delivered (${((100 * Math.max(0, expected - count)) / Math.max(1, expected)).toFixed(1)}% dropped)`
  const perConn =
    subConns > 1
      ? `, per subscriber ${fmt(Math.min(...received.map((r) => r.minPerConn)))}–${fmt(Math.max(...received.map((r) => r.maxPerConn)))}`
      : ''
  out(
    `  ${round} ${t.name}: ${fmt(rate)} ${subConns > 1 ? 'deliveries' : 'msg'}/s; ${delivery}${perConn}; published ${fmt((sent * 1000) / durationMs)}/s; broker CPU ${pct(m.brokerPct)}; clients: ${[...received.map((r, i) => clientCpu(`sub${i}`, r)), ...published.map((r, i) => clientCpu(`pub${i}`, r))].join(', ')}; others ${pct(m.othersPct)}; load ${loadAverage()}`,
  )
  return { rate, lost: o.qos === 1 ? lost : 0, unacked }
}

// ---- run

async function main() {
  out(`mqtt: load average at start ${loadAverage()} (2 cores; "others" = CPU the rest of the machine used)`)
  const mosquittoBin = ensureMosquitto(out)
  const hub = await startHub()
  brokers.push(hub)
  const mosquitto = await startMosquitto(mosquittoBin)
  brokers.push(mosquitto)
  const version = Bun.spawnSync([mosquittoBin, '-h']).stdout.toString().split('\n')[0] ?? ''
  out(`mqtt: hub = dist/hearth on 127.0.0.1:${hub.port} (${hub.settings})`)
  out(`mqtt: mosquitto = ${version.trim()} on 127.0.0.1:${mosquitto.port} (${mosquitto.settings})`)
  const both = [hub, mosquitto]

  const st: Record<string, Awaited<ReturnType<typeof storm>>> = {}
  if (!ONLY || ONLY.has('storm')) {
    out(
      `\nconnection storm: ${fmt(STORM)} clients (2 processes, 50 connecting at a time each) connect + subscribe`,
    )
    for (const t of both) st[t.name] = await storm(t)
  }
  const [sh, sm] = [st.hub, st.mosquitto]
  if (sh && sm) recordStorm(sh, sm)
  // After the storm: each latency round warms up first, which also lets the storm's garbage go.
  if (!ONLY || ONLY.has('latency')) await latencyRows(both)
  await flows(both)
  targets(sh, sm)
}

function recordStorm(sh: Awaited<ReturnType<typeof storm>>, sm: Awaited<ReturnType<typeof storm>>) {
  record({ scenario: 'storm: time', unit: 'ms', higherIsBetter: false, hub: [sh.ms], mosquitto: [sm.ms] })
  record({
    scenario: 'storm: broker CPU',
    unit: 'ms',
    higherIsBetter: false,
    hub: [sh.cpuMs],
    mosquitto: [sm.cpuMs],
  })
  record({
    scenario: 'storm: memory per idle connection',
    unit: 'KiB',
    higherIsBetter: false,
    hub: [sh.perConn],
    mosquitto: [sm.perConn],
  })
}

async function latencyRows(both: Target[]) {
  out(
    `\nlatency: 1 publisher → 1 subscriber, QoS 0, ${PAYLOAD} B, 1,000 msg/s; ${LATENCY_ROUNDS} rounds of ${LATENCY_MS / 1000} s per broker, taken in turn, each after ${fmt(LATENCY_BURST)} messages as fast as they are delivered and ${LATENCY_WARMUP_MS / 1000} s at the rate, neither sampled; the table gives the median round. "floor" is bench/mqtt/floor.ts, a forwarder on Bun.listen with no policy: what the runtime alone costs`,
  )
  const floor = await startFloor()
  brokers.push(floor)
  const targets = [...both, floor]
  const p50 = { hub: [] as number[], mosquitto: [] as number[], floor: [] as number[] }
  const p99 = { hub: [] as number[], mosquitto: [] as number[], floor: [] as number[] }
  for (let i = 1; i <= LATENCY_ROUNDS; i++)
    for (const t of targets) {
      const r = await latency(t, `round ${i}`)
      p50[t.name].push(r.p50)
      p99[t.name].push(r.p99)
    }
  await floor[Symbol.asyncDispose]()
  brokers.splice(brokers.indexOf(floor), 1)
  for (const [p, rows] of [
    ['p50', p50],
    ['p99', p99],
  ] as const)
    record({
      scenario: `latency ${p} at 1,000 msg/s`,
      unit: 'ms',
      higherIsBetter: false,
      hub: rows.hub,
      mosquitto: rows.mosquitto,
    })
  const floorP99 = median(p99.floor)
  floorLatency = floorP99
  out(
    `  → latency p99 of the floor: ${floorP99.toFixed(2)} ms (${p99.floor.map((x) => x.toFixed(2)).join(', ')}) = ${(floorP99 / median(p99.mosquitto)).toFixed(2)}× mosquitto's, hub ${(median(p99.hub) / floorP99).toFixed(2)}× the floor`,
  )
}

/** The floor's median latency p99, for the targets' line. */
let floorLatency: number | undefined

async function flows(both: Target[]) {
  const all: (FlowOptions & { title: string; short: string; unit: string })[] = [
    {
      title: 'fan-in QoS 0: 8 publishers (2 processes) → 1 subscriber',
      short: 'fan-in QoS 0',
      name: 'fanin0',
      pubs: [4, 4],
      subs: [1],
      qos: 0,
      track: true,
      unit: 'msg/s',
    },
    {
      title: 'fan-in QoS 1: 8 publishers (2 processes, 64 in flight each) → 1 subscriber',
      short: 'fan-in QoS 1',
      name: 'fanin1',
      pubs: [4, 4],
      subs: [1],
      qos: 1,
      track: true,
      unit: 'msg/s',
    },
    {
      title: 'fan-in QoS 0, MQTT 5 (topic alias, user property): 8 publishers (2 processes) → 1 subscriber',
      short: 'fan-in QoS 0 (MQTT 5)',
      name: 'fanin0v5',
      pubs: [4, 4],
      subs: [1],
      qos: 0,
      track: true,
      v5: true,
      unit: 'msg/s',
    },
    {
      title: 'fan-in QoS 1, MQTT 5 (topic alias, user property): 8 publishers (2 processes) → 1 subscriber',
      short: 'fan-in QoS 1 (MQTT 5)',
      name: 'fanin1v5',
      pubs: [4, 4],
      subs: [1],
      qos: 1,
      track: true,
      v5: true,
      unit: 'msg/s',
    },
    {
      title: 'fan-out QoS 0: 1 publisher → 10 subscribers (1 process)',
      short: 'fan-out 1 → 10',
      name: 'fanout10',
      pubs: [1],
      subs: [10],
      qos: 0,
      track: false,
      unit: 'deliveries/s',
    },
    {
      title: 'fan-out QoS 0: 1 publisher → 100 subscribers (2 processes)',
      short: 'fan-out 1 → 100',
      name: 'fanout100',
      pubs: [1],
      subs: [50, 50],
      qos: 0,
      track: false,
      unit: 'deliveries/s',
    },
  ]
  let lostQos1 = 0
  let unackedQos1 = 0
  const chosen = all.filter((f) => !ONLY || ONLY.has(f.name))
  for (const f of chosen) {
    out(
      `\n${f.title}, ${PAYLOAD} B payloads, publishing for ${DURATION_MS / 1000} s, ${ROUNDS} rounds after a ${WARMUP_MS / 1000} s warm-up`,
    )
    // The hub's JIT compiles each path on first use (the first 3 s round ran ~25% slower than the
    // others); a hub that has been running is warm, so is what this measures.
    for (const t of both) await flow(t, f, 'warm-up (not counted)', WARMUP_MS)
  }
  const rowOf = new Map<(typeof chosen)[number], Row>(
    chosen.map((f) => [f, { scenario: f.short, unit: f.unit, higherIsBetter: true, hub: [], mosquitto: [] }]),
  )
  // Round by round over every flow, so that flows compared with each other (MQTT 5 with 3.1.1)
  // meet the same stretches of the machine's other load.
  for (let round = 0; round < ROUNDS; round++) {
    out(`\nround ${round + 1}`)
    for (const f of chosen) {
      const row = rowOf.get(f)!
      // Alternate who goes first, so neither always meets the same moment of the others' load.
      for (const t of round % 2 ? [...both].reverse() : both) {
        const r = await flow(t, f, `${round + 1} ${f.short}`)
        row[t.name].push(r.rate)
        if (t.name === 'hub' && f.qos === 1) {
          lostQos1 += r.lost
          unackedQos1 += r.unacked
        }
      }
    }
  }
  out('')
  for (const row of rowOf.values()) record(row)
  lost.qos1 += lostQos1
  lost.unacked += unackedQos1
}

/** QoS 1 messages the hub lost over the fan-in flows. */
const lost = { qos1: 0, unacked: 0 }

/** The issue's targets, those the rows measured tell. */
function targets(
  sh: Awaited<ReturnType<typeof storm>> | undefined,
  sm: Awaited<ReturnType<typeof storm>> | undefined,
) {
  const row = (name: string) => rows.find((r) => r.scenario === name)
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met')
  const atLeast = (name: string, times: number) => {
    const found = row(name)
    if (!found) return
    const r = ratioOf(found)
    out(`  ${name} ≥ ${times}× mosquitto: ${r.toFixed(2)}× ${met(r >= times)}`)
  }
  out('\ntargets:')
  atLeast('fan-in QoS 0', 3)
  atLeast('fan-in QoS 1', 1.5)
  if (row('fan-in QoS 1') || row('fan-in QoS 1 (MQTT 5)'))
    out(
      `  no loss at QoS 1: hub lost ${fmt(lost.qos1)} PUBACKed messages${lost.unacked ? ` (${fmt(lost.unacked)} never acknowledged)` : ''} ${met(lost.qos1 === 0)}`,
    )
  atLeast('fan-out 1 → 100', 2)
  if (sh && sm) {
    const memory = sh.perConn
    out(`  ≤ 4 KiB per idle connection: ${memory.toFixed(1)} KiB ${met(memory <= 4)}`)
    out(`  storm time ≤ mosquitto's: ${fmt(sh.ms)} ms against ${fmt(sm.ms)} ms ${met(sh.ms <= sm.ms)}`)
  }
  const p99 = row('latency p99 at 1,000 msg/s')
  if (p99)
    out(
      `  latency p99 ≤ mosquitto's: ${median(p99.hub).toFixed(2)} ms against ${median(p99.mosquitto).toFixed(2)} ms ${met(median(p99.hub) <= median(p99.mosquitto))}${floorLatency === undefined ? '' : ` (the floor, Bun.listen alone: ${floorLatency.toFixed(2)} ms)`}`,
    )
  for (const qos of [0, 1]) {
    const v5row = row(`fan-in QoS ${qos} (MQTT 5)`)
    const v311row = row(`fan-in QoS ${qos}`)
    if (!v5row || !v311row) continue
    const v5 = median(v5row.hub)
    const v311 = median(v311row.hub)
    out(
      `  MQTT 5 fan-in QoS ${qos} within 20% of 3.1.1: ${(v5 / v311).toFixed(2)} of it ${met(v5 >= 0.8 * v311)}`,
    )
  }

  out('\n| scenario | hub | mosquitto | hub/mosquitto |')
  out('| --- | --- | --- | --- |')
  const num = (n: number, unit: string) => `${n >= 100 ? fmt(n) : n.toFixed(n >= 10 ? 1 : 2)} ${unit}`
  const cell = (xs: number[], unit: string) =>
    xs.length > 1
      ? `${num(median(xs), unit)} (${xs.map((x) => num(x, '').trim()).join(', ')})`
      : num(xs[0]!, unit)
  for (const r of rows)
    out(
      `| ${r.scenario} | ${cell(r.hub, r.unit)} | ${cell(r.mosquitto, r.unit)} | ${ratioOf(r).toFixed(2)}${r.higherIsBetter ? '' : ' (lower is better)'} |`,
    )
  out(`\nmqtt: load average at end ${loadAverage()}`)
}

// The bound on the whole run: stopping the workers and brokers makes main() fail at once.
const watchdog = setTimeout(() => {
  out(`mqtt: the whole run exceeded MAX_S=${MAX_MS / 1000} s, stopping`)
  void cleanup().finally(() => process.exit(1))
}, MAX_MS)
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    void cleanup().finally(() => process.exit(130))
  })

let code = 0
try {
  await main()
} catch (err) {
  out(`mqtt: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
  code = 1
} finally {
  clearTimeout(watchdog)
  await cleanup()
}
process.exit(code)
