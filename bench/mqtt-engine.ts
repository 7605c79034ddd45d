// The bare MQTT engine (src/mqtt, memory store, permissive: no hub policy, no SQLite) against
// Debian's mosquitto, both started by this run on free loopback ports, with the same load
// generator (bench/mqtt/worker.ts processes, raw MQTT over Bun sockets, each reporting its CPU).
//   - fan-in QoS 0 and QoS 1: 8 publishers → 1 subscriber, 64-byte payloads;
//   - idle connections: RSS per connected + subscribed client.
// A load-generator process near 100 % of a core is marked "saturated": the broker figure is then
// a floor, the generator was the limit.
//
//   bun bench/mqtt-engine.ts            (env: DURATION_S=3, ROUNDS=3, IDLE=2000)
//   bun bench/mqtt-engine.ts serve      (the engine alone, prints its port; used by the bench)
import { join } from 'node:path'
import { createEngine, createMemoryStore, listenTcp } from '../src/mqtt/index.ts'
import {
  ensureMosquitto,
  loadAverage,
  type PortPrinter,
  processCpuMs,
  rssKiB,
  spawnPortPrinter,
  startMosquitto,
} from './mqtt/brokers.ts'
import type { WorkerReport, WorkerSpec } from './mqtt/worker.ts'

const DURATION_MS = Number(process.env.DURATION_S ?? 3) * 1000
const ROUNDS = Number(process.env.ROUNDS ?? 3)
const IDLE = Number(process.env.IDLE ?? 2000)
const WORKER = join(import.meta.dir, 'mqtt', 'worker.ts')
const print = (s: string) => process.stdout.write(`${s}\n`)
const n0 = (n: number) => Math.round(n).toLocaleString('en-US')

async function serve(): Promise<void> {
  const engine = createEngine({
    store: createMemoryStore(),
    limits: {
      maxConnections: 100_000,
      maxPendingConnectionsPerAddress: 100_000,
      maxQueuedMessages: 1_000_000,
    },
  })
  await engine.start()
  const listener = listenTcp(engine, { port: 0 })
  print(String(listener.port))
  // The bench closes stdin when it is done (or gone).
  for await (const _ of Bun.stdin.stream()) {
    // commands are not used; the stream ending is the signal
  }
  listener.stop(true)
  await engine.stop()
  process.exit(0)
}

interface Broker extends PortPrinter {
  name: 'engine' | 'mosquitto'
}

async function startEngineProcess(): Promise<Broker> {
  const engine = await spawnPortPrinter([process.execPath, import.meta.path, 'serve'], 'the engine')
  return { name: 'engine', ...engine }
}

/** One load-generator process: JSON reports on stdout, commands on stdin. */
class Generator {
  private readonly proc: ReturnType<typeof Bun.spawn<'pipe', 'pipe', 'inherit'>>
  private readonly reports: WorkerReport[] = []
  private done = false

  constructor(spec: WorkerSpec) {
    this.proc = Bun.spawn([process.execPath, WORKER, JSON.stringify(spec)], { stdin: 'pipe', stdout: 'pipe' })
    void this.read()
  }

  private async read(): Promise<void> {
    let partial = ''
    for await (const chunk of this.proc.stdout) {
      const lines = (partial + Buffer.from(chunk).toString()).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) if (line) this.reports.push(JSON.parse(line) as WorkerReport)
    }
    this.done = true
  }

  async next<T extends WorkerReport['type']>(
    type: T,
    timeoutMs = 60_000,
  ): Promise<Extract<WorkerReport, { type: T }>> {
    const deadline = performance.now() + timeoutMs
    for (;;) {
      const i = this.reports.findIndex((r) => r.type === type || r.type === 'error')
      if (i >= 0) {
        const r = this.reports.splice(i, 1)[0]!
        if (r.type === 'error') throw new Error(r.message)
        return r as Extract<WorkerReport, { type: T }>
      }
      if (this.done || performance.now() > deadline) throw new Error(`load generator: no '${type}'`)
      await Bun.sleep(20)
    }
  }

  send(line: string): void {
    this.proc.stdin.write(`${line}\n`)
    this.proc.stdin.flush()
  }

  kill(): void {
    this.proc.kill('SIGKILL')
  }
}

const cpuPct = (r: { cpuMs: number; wallMs: number }) => (100 * r.cpuMs) / Math.max(1, r.wallMs)

/** 8 publishers (two generator processes) → 1 subscriber. Returns msg/s at the subscriber. */
async function fanIn(b: Broker, qos: 0 | 1, round: number): Promise<{ rate: number; saturated: boolean }> {
  const topic = `bench/fanin${qos}`
  const prefix = `r${round}-q${qos}-${b.name}`
  const sub = new Generator({
    role: 'sub',
    port: b.port,
    prefix: `${prefix}-s`,
    deadlineMs: DURATION_MS + 60_000,
    conns: 1,
    filter: topic,
    qos,
    track: false,
  })
  await sub.next('ready')
  const pubs = [0, 1].map(
    (i) =>
      new Generator({
        role: 'pub',
        port: b.port,
        prefix,
        deadlineMs: DURATION_MS + 60_000,
        conns: 4,
        firstIndex: i * 4,
        topic,
        qos,
        payload: 64,
        durationMs: DURATION_MS,
        window: 64,
      }),
  )
  try {
    await Promise.all(pubs.map((p) => p.next('ready')))
    const cpu0 = processCpuMs(b.pid)
    const t0 = performance.now()
    for (const g of [sub, ...pubs]) g.send('go')
    const published = await Promise.all(pubs.map((p) => p.next('published', DURATION_MS + 30_000)))
    const sent = published.reduce((a, r) => a + r.sent, 0)
    sub.send(`finish ${JSON.stringify({ expected: sent, idleMs: 1000, maxMs: 10_000 })}`)
    const got = await sub.next('received')
    const rate = got.count > 1 ? (got.count * 1000) / Math.max(1, got.last - got.first) : 0
    const brokerPct = (100 * (processCpuMs(b.pid) - cpu0)) / Math.max(1, performance.now() - t0)
    const gens = [cpuPct(got), ...published.map(cpuPct)]
    const saturated = gens.some((p) => p >= 90)
    print(
      `  round ${round} ${b.name} QoS ${qos}: ${n0(rate)} msg/s (${n0(got.count)} of ${n0(sent)} delivered); broker CPU ${n0(brokerPct)}%; generators ${gens.map((p) => `${n0(p)}%`).join(' ')}${saturated ? ' (a generator was saturated: the figure is a floor)' : ''}`,
    )
    return { rate, saturated }
  } finally {
    for (const g of [sub, ...pubs]) g.kill()
  }
}

/** RSS per idle connected + subscribed client. */
async function idle(b: Broker): Promise<number> {
  const g = new Generator({
    role: 'storm',
    port: b.port,
    prefix: `idle-${b.name}`,
    deadlineMs: 90_000,
    conns: IDLE,
    firstIndex: 0,
    concurrency: 50,
    keepaliveS: 60,
  })
  try {
    await g.next('ready')
    const rss0 = rssKiB(b.pid)
    g.send('go')
    const r = await g.next('connected')
    // Warm: a second reading after the broker settled.
    await Bun.sleep(1000)
    const perConn = (rssKiB(b.pid) - rss0) / Math.max(1, r.ok)
    print(`  ${b.name}: ${n0(r.ok)} idle connections, ${perConn.toFixed(1)} KiB each`)
    g.send('close')
    await g.next('closed', 15_000)
    return perConn
  } finally {
    g.kill()
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0

async function main(): Promise<void> {
  print(`mqtt-engine bench: load average ${loadAverage()}; ${ROUNDS} rounds of ${DURATION_MS / 1000} s`)
  const mosquittoBin = ensureMosquitto(print)
  const mosq = await startMosquitto(mosquittoBin)
  const brokers: Broker[] = [
    await startEngineProcess(),
    {
      name: 'mosquitto',
      port: mosq.port,
      pid: mosq.pid,
      stop: async () => {
        await mosq[Symbol.asyncDispose]()
      },
    },
  ]
  try {
    const table: string[] = []
    for (const qos of [0, 1] as const) {
      const rates: Record<string, number[]> = { engine: [], mosquitto: [] }
      let saturated = false
      for (let round = 1; round <= ROUNDS; round++) {
        for (const b of brokers) {
          const r = await fanIn(b, qos, round)
          rates[b.name]!.push(r.rate)
          if (b.name === 'engine' && r.saturated) saturated = true
        }
      }
      const e = median(rates.engine!)
      const m = median(rates.mosquitto!)
      // The median of the rounds' ratios: the two runs of a round shared the machine's load of the moment.
      const ratio = median(rates.engine!.map((x, i) => x / Math.max(1, rates.mosquitto![i]!)))
      table.push(
        `| fan-in QoS ${qos}, 8 → 1, 64 B | ${n0(e)} msg/s | ${n0(m)} msg/s | ${ratio.toFixed(2)}× | ${saturated ? 'load generator saturated: engine figure is a floor' : ''} |`,
      )
    }
    const perConn: Record<string, number> = {}
    for (const b of brokers) perConn[b.name] = await idle(b)
    table.push(
      `| idle connection (${n0(IDLE)}, subscribed) | ${perConn.engine!.toFixed(1)} KiB | ${perConn.mosquitto!.toFixed(1)} KiB | | |`,
    )
    print('')
    print('| scenario | engine (median) | mosquitto (median) | ratio (median of rounds) | note |')
    print('| --- | --- | --- | --- | --- |')
    for (const line of table) print(line)
    print(`load average at the end ${loadAverage()}`)
  } finally {
    for (const b of brokers) await b.stop()
  }
}

if (process.argv[2] === 'serve') await serve()
else await main()
