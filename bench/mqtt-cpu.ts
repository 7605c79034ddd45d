// The engine's CPU time per message, in process and without sockets: a publisher's reads handed
// straight to its connection, every delivery to one subscriber taken at once. It counts only
// this process's CPU time, so on a shared machine it tells what bench/mqtt.ts's throughput cannot
// (that figure is the share of the machine the broker got): MQTT 3.1.1 against MQTT 5 with a
// topic alias and a user property on every PUBLISH, QoS 0, 64-byte payloads.
//
//   bun bench/mqtt-cpu.ts        (env: MESSAGES=200000, ROUNDS=5)
import mqttPacket, { type Packet } from 'mqtt-packet'
import { createEngine, createMemoryStore } from '../src/mqtt/index.ts'
import { loadAverage } from './mqtt/brokers.ts'

const MESSAGES = Number(process.env.MESSAGES ?? 200_000)
const ROUNDS = Number(process.env.ROUNDS ?? 5)
const PER_READ = 1000

const wire = (sink: { bytes: number }) => ({
  write: (d: Uint8Array) => {
    sink.bytes += d.length
    return d.length
  },
  buffered: () => 0,
  end() {},
})

const packet = (p: Record<string, unknown>, v: 4 | 5) =>
  mqttPacket.generate(p as unknown as Packet, { protocolVersion: v })

/** Nanoseconds of CPU per message routed from one publisher to one subscriber. */
async function round(v: 4 | 5): Promise<number> {
  const engine = createEngine({ store: createMemoryStore() })
  await engine.start()
  const got = { bytes: 0 }
  const connect = (clientId: string, properties?: object) =>
    packet(
      {
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: v,
        clientId,
        clean: true,
        keepalive: 0,
        properties,
      },
      v,
    )
  const sub = engine.open(wire(got), { transport: 'tcp', remoteAddress: '127.0.0.1' })!
  sub.onData(connect('sub', v === 5 ? { topicAliasMaximum: 10 } : undefined))
  sub.onData(packet({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'bench/#', qos: 0 }] }, v))
  const pub = engine.open(wire({ bytes: 0 }), { transport: 'tcp', remoteAddress: '127.0.0.1' })!
  pub.onData(connect('pub'))
  const publish = (topic: string) =>
    packet(
      {
        cmd: 'publish',
        topic,
        payload: Buffer.alloc(64, 97),
        qos: 0,
        ...(v === 5 && { properties: { topicAlias: 1, userProperties: { k: 'v' } } }),
      },
      v,
    )
  // MQTT 5: the first PUBLISH sets the alias, every later one carries the alias only.
  pub.onData(publish('bench/x'))
  const one = v === 5 ? publish('') : publish('bench/x')
  const read = Buffer.concat(Array.from({ length: PER_READ }, () => one))
  // Warm the JIT on this path before counting.
  for (let i = 0; i < 50; i++) pub.onData(Buffer.from(read))
  const reads = Array.from({ length: MESSAGES / PER_READ }, () => Buffer.from(read))
  const before = got.bytes
  const t0 = process.cpuUsage()
  for (const r of reads) pub.onData(r)
  const t = process.cpuUsage(t0)
  if (got.bytes - before < MESSAGES * 64) throw new Error('messages were not delivered')
  await engine.stop()
  return ((t.user + t.system) * 1000) / MESSAGES
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const figures: Record<4 | 5, number[]> = { 4: [], 5: [] }
for (let i = 0; i < ROUNDS; i++) for (const v of [4, 5] as const) figures[v].push(await round(v))
const v311 = median(figures[4])
const v5 = median(figures[5])
const all = (xs: number[]) => xs.map((x) => Math.round(x)).join(', ')
process.stdout.write(
  `engine CPU per message, QoS 0, 1 publisher → 1 subscriber, ${MESSAGES.toLocaleString('en-US')} messages × ${ROUNDS} rounds (median):\n` +
    `  MQTT 3.1.1: ${Math.round(v311)} ns (${all(figures[4])})\n` +
    `  MQTT 5, topic alias + user property: ${Math.round(v5)} ns (${all(figures[5])})\n` +
    `  MQTT 5 rate as a share of 3.1.1's: ${(v311 / v5).toFixed(2)}\n` +
    `  load average ${loadAverage()}\n`,
)
