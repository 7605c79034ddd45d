// The broker store's write path (src/store/mqtt): how long one tick's batch takes to commit on
// the hub's database settings (WAL, synchronous = NORMAL), and how long a start's load() takes.
//   npx bun bench/broker-store.ts
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '../src/log.ts'
import type { Message, StoreOp } from '../src/mqtt/types.ts'
import { migrate } from '../src/store/migrate.ts'
import { createSqliteEngineStore } from '../src/store/mqtt/sqlite-store.ts'
import { openDatabase } from '../src/store/open.ts'

const SESSIONS = 10
const TICK = 1000
const TICKS = 50
const payload = Buffer.alloc(64, 0x61)
const message = (topic: string): Message => ({ topic, payload, qos: 1, retain: false })

const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-store-'))
const db = openDatabase(join(dir, 'hearth.db'))
migrate(db)
const store = createSqliteEngineStore({ db, log: silentLogger() })
store.write(Array.from({ length: SESSIONS }, (_, i) => session(`c${i}`)))

function session(clientId: string): StoreOp {
  return {
    op: 'session',
    clientId,
    owner: clientId,
    protocolLevel: 4,
    expiryInterval: 0xffffffff,
    disconnectedAt: 1,
  }
}

const rows: string[][] = []
function measure(name: string, ticks: number, opsPerTick: number, tick: (i: number) => StoreOp[]): void {
  const batches = Array.from({ length: ticks }, (_, i) => tick(i))
  const start = Bun.nanoseconds()
  for (const batch of batches) store.write(batch)
  const ns = Bun.nanoseconds() - start
  const ops = ticks * opsPerTick
  rows.push([
    name,
    String(opsPerTick),
    `${(ns / ticks / 1e6).toFixed(2)} ms`,
    `${(ns / ops / 1e3).toFixed(2)} µs`,
    `${Math.round(ops / (ns / 1e9)).toLocaleString('en')}`,
  ])
}

let seq = 0
const seqs: number[] = []
// Offline fan-in: every tick queues TICK QoS 1 messages spread over the sessions.
measure('enqueue (64 B, 10 offline sessions)', TICKS, TICK, () =>
  Array.from({ length: TICK }, (_, k) => {
    const s = seq++
    seqs.push(s)
    return { op: 'enqueue', clientId: `c${k % SESSIONS}`, item: { seq: s, message: message(`load/${s}`) } }
  }),
)
// Online QoS 1 steady state: each message is queued, sent (packet id) and acknowledged, a third each tick.
let sent = 0
let acked = 0
measure('enqueue + sent + PUBACK (a third each)', TICKS, TICK, () => {
  const ops: StoreOp[] = []
  for (let k = 0; k < TICK / 3; k++) {
    const s = seq++
    seqs.push(s)
    ops.push({ op: 'enqueue', clientId: `c${s % SESSIONS}`, item: { seq: s, message: message('t') } })
    const out = seqs[sent++] as number
    ops.push({
      op: 'outgoing',
      clientId: `c${out % SESSIONS}`,
      seq: out,
      packetId: (out % 65535) + 1,
      state: 'sent',
    })
    const done = seqs[acked++] as number
    ops.push({ op: 'dequeue', clientId: `c${done % SESSIONS}`, seq: done })
  }
  return ops
})
measure('retained replace (100 topics)', TICKS, TICK, (i) =>
  Array.from({ length: TICK }, (_, k) => ({
    op: 'retain',
    topic: `state/${k % 100}`,
    message: { ...message(`state/${k % 100}`), retain: true, payload: Buffer.from(`${i}:${k}`) },
  })),
)
measure('one enqueue per tick (commit floor)', 2000, 1, () => {
  const s = seq++
  return [{ op: 'enqueue', clientId: `c${s % SESSIONS}`, item: { seq: s, message: message('t') } }]
})

// Enough queued state to time a start.
const queuedBefore = (db.query('SELECT count(*) AS n FROM broker_queue').get() as { n: number }).n
store.write(
  Array.from({ length: 100_000 - queuedBefore }, () => {
    const s = seq++
    return { op: 'enqueue', clientId: `c${s % SESSIONS}`, item: { seq: s, message: message('t') } } as StoreOp
  }),
)
const loadStart = Bun.nanoseconds()
const state = store.load()
const loadMs = (Bun.nanoseconds() - loadStart) / 1e6
const loaded = state.sessions.reduce((n, s) => n + s.queue.length, 0)

const widths = [40, 8, 10, 9, 12]
const line = (cells: string[]) => `${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' ')}\n`
process.stdout.write(line(['batch', 'ops/tick', 'per tick', 'per op', 'ops/s']))
for (const r of rows) process.stdout.write(line(r))
process.stdout.write(`load(): ${loaded.toLocaleString('en')} queued messages in ${loadMs.toFixed(0)} ms\n`)
db.close()
rmSync(dir, { recursive: true, force: true })
