// A load-generator process of bench/mqtt.ts: `bun bench/mqtt/worker.ts '<spec JSON>'`.
// It connects its clients, prints `{"type":"ready"}`, waits for commands on stdin (`go`,
// `finish <json>`, `close`) and prints one JSON line per figure, with its own CPU time so a
// saturated client is visible. It talks only to 127.0.0.1 and exits by itself: at its deadline,
// when its stdin closes (the bench is gone), or when its role is done.
import { Conn } from './client.ts'
import {
  disconnectPacket,
  type Incoming,
  PINGRESP,
  PUBACK,
  PUBLISH,
  PublishBatch,
  pingreqPacket,
  pubackPacket,
  skipProperties,
} from './wire.ts'

/** First payload word of the PUBLISH that sets a publisher's MQTT 5 topic alias. */
const SETUP = 0xffffffff

/** QoS 0 publishers: batches of 128 messages between client and broker, per connection. */
const PINGS = 8

export type WorkerSpec = { port: number; prefix: string; deadlineMs: number } & (
  | {
      role: 'pub'
      conns: number
      /** Publisher number of the first connection (written into each payload). */
      firstIndex: number
      topic: string
      qos: 0 | 1
      payload: number
      durationMs: number
      /** QoS 1: PUBLISHes awaiting their PUBACK per connection. */
      window: number
      /** MQTT 5, every PUBLISH with a topic alias and a user property. */
      v5?: boolean
    }
  | { role: 'sub'; conns: number; filter: string; qos: 0 | 1; track: boolean; v5?: boolean }
  | { role: 'storm'; conns: number; firstIndex: number; concurrency: number; keepaliveS: number }
  | {
      role: 'latency'
      rate: number
      /** Sent as fast as they are delivered before the timed part, not sampled: warms a JIT. */
      burst: number
      /** Sent at the same rate before `durationMs`, not sampled: JIT and caches warm on both sides. */
      warmupMs: number
      durationMs: number
      qos: 0 | 1
      payload: number
    }
)

/** CPU this process used (user + system) and the wall time it was measured over. */
export interface CpuFigure {
  cpuMs: number
  wallMs: number
}

export type WorkerReport =
  | { type: 'ready' }
  | ({
      type: 'published'
      sent: number
      acked: number
      unacked: number
      /** Per publisher index: QoS 1 messages acknowledged (PUBACKs come in order, so seq 0..n-1), QoS 0 sent. */
      perPublisher: Record<string, number>
    } & CpuFigure)
  | ({
      type: 'received'
      count: number
      unique: number
      duplicates: number
      /** Of the messages `finish` listed per publisher (sequence numbers 0..n-1), those that never arrived. */
      missing: number
      /** Epoch ms of the first and the last message. */
      first: number
      last: number
      minPerConn: number
      maxPerConn: number
    } & CpuFigure)
  | ({
      type: 'connected'
      ok: number
      failed: number
      ms: number
      slowestMs: number
      errors: string[]
    } & CpuFigure)
  | { type: 'closed' }
  | ({ type: 'latency'; sent: number; received: number; samples: number[] } & CpuFigure)
  | { type: 'error'; message: string }

const spec = JSON.parse(process.argv[2] ?? '{}') as WorkerSpec
const emit = (r: WorkerReport) => process.stdout.write(`${JSON.stringify(r)}\n`)
const cpuMs = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since)
  return (u.user + u.system) / 1000
}

setTimeout(() => {
  emit({ type: 'error', message: `worker deadline of ${spec.deadlineMs} ms reached` })
  process.exit(3)
}, spec.deadlineMs)

/** Commands from the bench, one per line; the bench going away ends this process. */
const commands = (async function* () {
  const decoder = new TextDecoder()
  let buffered = ''
  for await (const chunk of Bun.stdin.stream()) {
    buffered += decoder.decode(chunk, { stream: true })
    let nl = buffered.indexOf('\n')
    while (nl >= 0) {
      yield buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      nl = buffered.indexOf('\n')
    }
  }
  process.exit(0)
})()

async function command(name: string): Promise<string> {
  for (;;) {
    const next = await commands.next()
    if (next.done) process.exit(0)
    const [word, ...rest] = next.value.split(' ')
    if (word === name) return rest.join(' ')
  }
}

async function connectAll(n: number, make: (i: number) => Conn): Promise<Conn[]> {
  const conns = Array.from({ length: n }, (_, i) => make(i))
  await Promise.all(conns.map((c) => c.open()))
  return conns
}

async function publisher(s: Extract<WorkerSpec, { role: 'pub' }>): Promise<void> {
  let acked = 0
  const inflight = new Array<number>(s.conns).fill(0)
  const ackedPer = new Array<number>(s.conns).fill(0)
  const topUp: (() => void)[] = []
  const conns = await connectAll(
    s.conns,
    (i) =>
      new Conn({
        port: s.port,
        clientId: `${s.prefix}-pub-${s.firstIndex + i}`,
        v5: s.v5 === true,
        onPacket: (p) => {
          if (p.type === PUBACK) {
            acked++
            ackedPer[i]!++
          } else if (p.type !== PINGRESP) return
          inflight[i]!--
          topUp[i]?.()
        },
      }),
  )
  // MQTT 5: one PUBLISH with the topic name sets alias 1; every later one carries the alias only.
  // Its payload starts with SETUP, which subscribers do not count.
  if (s.v5) {
    const setAlias = new PublishBatch(s.topic, 0, s.payload, 1, { aliasOnly: false })
    setAlias.view.setUint32(setAlias.payloadAt(0), SETUP)
    for (const c of conns) c.send(setAlias.take(1))
  }
  const v5 = s.v5 ? { aliasOnly: true } : undefined
  emit({ type: 'ready' })
  await command('go')
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const end = t0 + s.durationMs
  let sent = 0

  // QoS 0 has no acknowledgement: a PINGREQ after each batch, answered once the broker has read
  // the batch [MQTT-3.12.4-1], keeps at most PINGS batches per connection between client and
  // broker. Without it the publishers fill the kernel's socket buffers (megabytes) far faster than
  // a broker reads them, and "published" would count bytes still waiting in the kernel.
  const qos0 = async (conn: Conn, index: number, c: number) => {
    const per = 128
    const count = () => {
      sent += per
      ackedPer[c]! += per
    }
    const batch = new PublishBatch(s.topic, 0, s.payload, per, v5)
    const ping = pingreqPacket()
    let seq = 0
    while (!conn.closed && performance.now() < end) {
      while (inflight[c]! >= PINGS && !conn.closed) await new Promise<void>((r) => (topUp[c] = r))
      for (let i = 0; i < per; i++) {
        const at = batch.payloadAt(i)
        batch.view.setUint32(at, index)
        batch.view.setUint32(at + 4, seq++)
      }
      count()
      inflight[c]!++
      conn.send(batch.take(per))
      conn.send(ping)
      if (conn.pendingBytes) await conn.drained()
    }
    // The last batches are read before the publisher says it is done.
    const until = performance.now() + 10_000
    while (inflight[c]! > 0 && !conn.closed && performance.now() < until)
      await new Promise<void>((r) => {
        topUp[c] = r
        setTimeout(r, 100)
      })
  }

  const qos1 = (conn: Conn, index: number, c: number) =>
    new Promise<void>((resolve) => {
      const batch = new PublishBatch(s.topic, 1, s.payload, s.window, v5)
      let seq = 0
      let id = 0
      const done = () => {
        clearInterval(timer)
        resolve()
      }
      const fill = () => {
        if (conn.closed) return done()
        if (performance.now() >= end) {
          if (inflight[c] === 0) done()
          return
        }
        // Top up in halves of the window: fewer, larger writes.
        const room = s.window - inflight[c]!
        if (room < s.window / 2) return
        for (let i = 0; i < room; i++) {
          id = (id % 65535) + 1
          batch.setPacketId(i, id)
          const at = batch.payloadAt(i)
          batch.view.setUint32(at, index)
          batch.view.setUint32(at + 4, seq++)
        }
        inflight[c]! += room
        sent += room
        conn.send(batch.take(room))
      }
      topUp[c] = fill
      // PUBACKs drive the load; this also ends a connection once its last PUBACK is in, or
      // 10 s after the end without it (counted as unacked, not as lost).
      const timer = setInterval(() => {
        fill()
        if (performance.now() > end + 10_000) done()
      }, 50)
      void conn.whenClosed().then(done)
      fill()
    })

  await Promise.all(
    conns.map((conn, c) => (s.qos === 0 ? qos0(conn, s.firstIndex + c, c) : qos1(conn, s.firstIndex + c, c))),
  )
  const wallMs = performance.now() - t0
  await Promise.race([Promise.all(conns.map((c) => c.drained())), Bun.sleep(5000)])
  const cpu = cpuMs(cpu0)
  for (const c of conns) {
    c.send(disconnectPacket())
    c.end()
  }
  const unacked = inflight.reduce((a, b) => a + b, 0)
  emit({
    type: 'published',
    sent,
    acked,
    unacked: s.qos === 0 ? unacked * 128 : unacked,
    perPublisher: Object.fromEntries(ackedPer.map((n, c) => [String(s.firstIndex + c), n])),
    cpuMs: cpu,
    wallMs,
  })
}

/** Sequence numbers seen from one publisher, to count every message and every duplicate. */
class SeenSet {
  bits = new Uint8Array(1 << 16)
  unique = 0
  duplicates = 0
  add(seq: number) {
    const byte = seq >>> 3
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.max(this.bits.length * 2, byte + 1))
      grown.set(this.bits)
      this.bits = grown
    }
    const mask = 1 << (seq & 7)
    if (this.bits[byte]! & mask) this.duplicates++
    else {
      this.bits[byte]! |= mask
      this.unique++
    }
  }
  /** How many of 0..n-1 were seen. */
  countBelow(n: number): number {
    let c = 0
    for (let seq = 0; seq < n; seq++) if ((this.bits[seq >>> 3] ?? 0) & (1 << (seq & 7))) c++
    return c
  }
}

async function subscriber(s: Extract<WorkerSpec, { role: 'sub' }>): Promise<void> {
  let count = 0
  let first = 0
  let last = 0
  const perConn = new Array<number>(s.conns).fill(0)
  const seen = new Map<number, SeenSet>()
  const acks = new Map<Conn, number[]>()
  const flushAcks = () => {
    for (const [conn, ids] of acks) {
      const buf = new Uint8Array(ids.length * 4)
      for (let i = 0; i < ids.length; i++) buf.set(pubackPacket(ids[i]!), i * 4)
      conn.send(buf)
    }
    acks.clear()
  }
  const onPublish = (p: Incoming, conn: Conn, c: number) => {
    if (p.type !== PUBLISH) return
    const topicLen = (p.data[p.at]! << 8) | p.data[p.at + 1]!
    let at = p.at + 2 + topicLen
    const id = p.flags & 0x06 ? (p.data[at]! << 8) | p.data[at + 1]! : 0
    if (p.flags & 0x06) at += 2
    if (s.v5) at = skipProperties(p.data, at)
    const d = p.data
    const publisher = ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) >>> 0
    // The message that set a publisher's topic alias is not part of the load.
    if (publisher === SETUP) return
    const now = performance.now()
    if (!count) first = now
    last = now
    count++
    perConn[c]!++
    if (p.flags & 0x06) {
      let ids = acks.get(conn)
      if (!ids) {
        ids = []
        acks.set(conn, ids)
        if (acks.size === 1) queueMicrotask(flushAcks)
      }
      ids.push(id)
    }
    if (s.track) {
      const seq = ((d[at + 4]! << 24) | (d[at + 5]! << 16) | (d[at + 6]! << 8) | d[at + 7]!) >>> 0
      let set = seen.get(publisher)
      if (!set) {
        set = new SeenSet()
        seen.set(publisher, set)
      }
      set.add(seq)
    }
  }
  const conns = await connectAll(
    s.conns,
    (i) =>
      new Conn({
        port: s.port,
        clientId: `${s.prefix}-sub-${i}`,
        v5: s.v5 === true,
        onPacket: (p, conn) => onPublish(p, conn, i),
      }),
  )
  for (const c of conns) {
    const granted = await c.subscribe(s.filter, s.qos)
    if (granted !== s.qos) throw new Error(`SUBACK granted ${granted}, asked ${s.qos}`)
  }
  emit({ type: 'ready' })
  await command('go')
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const { expected, idleMs, maxMs, listed } = JSON.parse(await command('finish')) as {
    expected?: number
    idleMs: number
    maxMs: number
    /** Per publisher index, how many messages must have arrived (sequence numbers 0..n-1). */
    listed?: Record<string, number>
  }
  const asked = performance.now()
  const unique = () => (s.track ? [...seen.values()].reduce((a, x) => a + x.unique, 0) : count)
  for (;;) {
    await Bun.sleep(20)
    if (expected !== undefined && unique() >= expected) break
    if (performance.now() - Math.max(last, asked) > idleMs) break
    if (performance.now() - asked > maxMs) break
  }
  const cpu = cpuMs(cpu0)
  let missing = 0
  for (const [k, n] of Object.entries(listed ?? {})) missing += n - (seen.get(Number(k))?.countBelow(n) ?? 0)
  emit({
    type: 'received',
    count,
    unique: unique(),
    duplicates: [...seen.values()].reduce((a, x) => a + x.duplicates, 0),
    missing,
    first: first ? performance.timeOrigin + first : 0,
    last: last ? performance.timeOrigin + last : 0,
    minPerConn: Math.min(...perConn),
    maxPerConn: Math.max(...perConn),
    cpuMs: cpu,
    wallMs: (last || performance.now()) - t0,
  })
  for (const c of conns) {
    c.send(disconnectPacket())
    c.end()
  }
}

async function storm(s: Extract<WorkerSpec, { role: 'storm' }>): Promise<void> {
  emit({ type: 'ready' })
  await command('go')
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const conns: Conn[] = []
  const errors = new Map<string, number>()
  let ok = 0
  let failed = 0
  let slowest = 0
  let next = 0
  const one = async () => {
    while (next < s.conns) {
      const k = s.firstIndex + next++
      const started = performance.now()
      const conn = new Conn({ port: s.port, clientId: `${s.prefix}-${k}`, keepaliveS: s.keepaliveS })
      try {
        await conn.open()
        await conn.subscribe(`bench/storm/${k}`, 1)
        conns.push(conn)
        ok++
      } catch (err) {
        failed++
        const m = err instanceof Error ? err.message : String(err)
        errors.set(m, (errors.get(m) ?? 0) + 1)
        conn.end()
      }
      slowest = Math.max(slowest, performance.now() - started)
    }
  }
  await Promise.all(Array.from({ length: s.concurrency }, one))
  emit({
    type: 'connected',
    ok,
    failed,
    ms: performance.now() - t0,
    slowestMs: slowest,
    errors: [...errors].map(([m, n]) => `${n}× ${m}`),
    cpuMs: cpuMs(cpu0),
    wallMs: performance.now() - t0,
  })
  await command('close')
  for (const c of conns) {
    c.send(disconnectPacket())
    c.end()
  }
  await Promise.race([Promise.all(conns.map((c) => c.whenClosed())), Bun.sleep(5000)])
  emit({ type: 'closed' })
}

/** Sequence numbers from here on are the burst's. */
const BURST_SEQ = 0xf000_0000

async function latency(s: Extract<WorkerSpec, { role: 'latency' }>): Promise<void> {
  // Sequence numbers below `warm` are the warm-up's: sent and received alike, never sampled.
  const warm = Math.round((s.rate * s.warmupMs) / 1000)
  const total = warm + Math.round((s.rate * s.durationMs) / 1000)
  const sentAt = new Float64Array(total)
  const samples: number[] = []
  let received = 0
  let burstReceived = 0
  const topic = `bench/latency/${s.prefix}`
  const sub = new Conn({
    port: s.port,
    clientId: `${s.prefix}-lat-sub`,
    onPacket: (p, conn) => {
      if (p.type !== PUBLISH) return
      const now = performance.now()
      const topicLen = (p.data[p.at]! << 8) | p.data[p.at + 1]!
      let at = p.at + 2 + topicLen
      if (p.flags & 0x06) {
        conn.send(pubackPacket((p.data[at]! << 8) | p.data[at + 1]!))
        at += 2
      }
      const d = p.data
      const seq = ((d[at + 4]! << 24) | (d[at + 5]! << 16) | (d[at + 6]! << 8) | d[at + 7]!) >>> 0
      if (seq >= BURST_SEQ) {
        burstReceived++
        return
      }
      if (seq >= warm && seq < total) samples[seq - warm] = now - sentAt[seq]!
      received++
    },
  })
  const pub = new Conn({ port: s.port, clientId: `${s.prefix}-lat-pub` })
  await Promise.all([sub.open(), pub.open()])
  await sub.subscribe(topic, s.qos)
  emit({ type: 'ready' })
  await command('go')
  const cpu0 = process.cpuUsage()
  const batch = new PublishBatch(topic, s.qos, s.payload, 1)
  let id = 0
  // The burst: at most 1,000 in flight, so neither broker queues or drops.
  for (let b = 0; b < s.burst; ) {
    while (b - burstReceived >= 1000) await Bun.sleep(1)
    for (const end = Math.min(s.burst, b + 100); b < end; b++) {
      batch.view.setUint32(batch.payloadAt(0) + 4, BURST_SEQ + b)
      if (s.qos) {
        id = (id % 65535) + 1
        batch.setPacketId(0, id)
      }
      pub.send(batch.take(1))
    }
  }
  const burstUntil = performance.now() + 10_000
  while (burstReceived < s.burst && performance.now() < burstUntil) await Bun.sleep(1)
  const t0 = performance.now()
  let sent = 0
  await new Promise<void>((resolve) => {
    // A steady rate: each tick sends what is due by now (usually one message a millisecond).
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * s.rate) / 1000))
      while (sent < due) {
        const at = batch.payloadAt(0)
        batch.view.setUint32(at + 4, sent)
        if (s.qos) {
          id = (id % 65535) + 1
          batch.setPacketId(0, id)
        }
        sentAt[sent] = performance.now()
        pub.send(batch.take(1))
        sent++
      }
      if (sent >= total) {
        clearInterval(timer)
        resolve()
      }
    }, 1)
  })
  const until = performance.now() + 3000
  while (received < total && performance.now() < until) await Bun.sleep(10)
  emit({
    type: 'latency',
    sent,
    received,
    samples: samples.filter((x) => x !== undefined),
    cpuMs: cpuMs(cpu0),
    wallMs: performance.now() - t0,
  })
  for (const c of [pub, sub]) {
    c.send(disconnectPacket())
    c.end()
  }
}

try {
  if (spec.role === 'pub') await publisher(spec)
  else if (spec.role === 'sub') await subscriber(spec)
  else if (spec.role === 'storm') await storm(spec)
  else if (spec.role === 'latency') await latency(spec)
  else throw new Error(`unknown role in ${process.argv[2]}`)
  await Bun.sleep(50)
  process.exit(0)
} catch (err) {
  emit({ type: 'error', message: err instanceof Error ? err.message : String(err) })
  process.exit(2)
}
