// Broadcast benchmark: one `POST /api/v1/messages/broadcast` to 5,000 connected
// devices; time until every device's PUBACK reached the hub, and until every recipient's status
// was recorded as delivered (the `message.completed` event).
//
// The devices are real: registered in the hub's registry, each connected over MQTT/TLS and
// authenticated by its own client certificate (CN = device id), subscribed to its inbox at QoS 1,
// answering PUBACK as a device does. Certificates rather than passwords because the hub's argon2id
// costs ~0.3 s per hash and per first verification on this machine: 5,000 devices would take
// ~50 minutes to create and connect. The registry's bulk `createCertificateDevices` and a CA-signed
// certificate per device (bench/_client-certs.ts) keep the product's auth path untouched.
// The devices run in a child process (this file with `--devices`), so they do not share the
// hub's event loop.
//
// Env: DEVICES=5000, ROUNDS=3.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import mqttPacket from 'mqtt-packet'
import { loadConfig } from '../src/config/load.ts'
import { createCertificateDevices } from '../src/devices/registry.ts'
import { createHub } from '../src/hub.ts'
import { silentLogger } from '../src/log.ts'
import { createToken } from '../src/store/tokens.ts'
import { generateLocalTls } from '../src/tls/generate.ts'
import { certificateFactory } from './_client-certs.ts'

const out = (s: string) => process.stdout.write(`${s}\n`)

if (process.argv[2] === '--devices') await runDevices(process.argv.slice(3))
else await main()

async function main(): Promise<void> {
  const count = Number(process.env.DEVICES ?? 5000)
  const rounds = Number(process.env.ROUNDS ?? 3)
  const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-broadcast-'))
  const tls = await generateLocalTls(join(dir, 'tls'), { hosts: ['localhost', '127.0.0.1'] })
  const { config } = loadConfig({
    cwd: dir,
    env: {},
    overrides: {
      dataDir: join(dir, 'data'),
      log: { level: 'silent' },
      admin: { password: 'bench-admin-password' },
      http: { host: '127.0.0.1', port: 0 },
      mqtt: {
        host: '127.0.0.1',
        port: 0,
        // Every device comes from 127.0.0.1: the per-address connect limit is for the internet.
        connectRatePerAddress: 1_000_000,
        maxConnections: count + 100,
        tls: { port: 0, cert: tls.cert, key: tls.key, ca: tls.caCert, requireClientCert: true },
      },
    },
  })
  const hub = createHub({ config, log: silentLogger() })
  await hub.start()
  const child: { proc?: Bun.Subprocess<'pipe', 'pipe', 'inherit'> } = {}
  try {
    const ids = Array.from({ length: count }, (_, i) => `bench-${String(i).padStart(5, '0')}`)
    let t0 = performance.now()
    createCertificateDevices(
      hub.db,
      ids.map((id) => ({ id })),
    )
    const factory = certificateFactory(readFileSync(tls.caCert, 'utf8'), readFileSync(tls.caKey, 'utf8'))
    const devicesFile = join(dir, 'devices.json')
    writeFileSync(
      devicesFile,
      JSON.stringify({
        ca: readFileSync(tls.caCert, 'utf8'),
        key: factory.keyPem,
        devices: ids.map((id, i) => ({ id, cert: factory.issue(id, i) })),
      }),
    )
    out(`${count} devices registered, certificates signed: ${(performance.now() - t0).toFixed(0)} ms`)

    // PUBACKs of inbox messages as the hub takes them (each is one device's delivery receipt).
    const deliveredOf = new Map<string, number>()
    hub.bus.on('bench', 'message.progress', (e) => deliveredOf.set(e.detail.messageId, e.detail.delivered))
    const pubacks = () => [...deliveredOf.values()].reduce((a, b) => a + b, 0)
    const completed = new Map<string, number>()
    hub.bus.on('bench', 'message.completed', (e) => completed.set(e.detail.messageId, performance.now()))

    t0 = performance.now()
    const proc = Bun.spawn(
      [process.execPath, import.meta.path, '--devices', String(hub.mqttTlsPort), devicesFile],
      { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' },
    )
    child.proc = proc
    await untilLine(proc.stdout, 'ready')
    out(`${count} devices connected over TLS and subscribed: ${(performance.now() - t0).toFixed(0)} ms`)

    const { secret } = createToken(hub.db, { name: 'bench', scope: 'write' })
    const rows: string[] = []
    const totals: number[] = []
    for (let round = 1; round <= rounds; round++) {
      const before = pubacks()
      const start = performance.now()
      const res = await fetch(`${hub.httpUrl}/api/v1/messages/broadcast`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: { text: 'dinner is ready', round } }),
      })
      const answered = performance.now()
      const sent = (await res.json()) as { messageId: string; recipientSize: number; sentSize: number }
      if (res.status !== 202 || sent.sentSize !== count)
        throw new Error(`broadcast: ${res.status} ${JSON.stringify(sent)}`)
      await until(() => pubacks() - before >= count, 120_000, 'every PUBACK')
      const allAcked = performance.now()
      await until(() => completed.has(sent.messageId), 30_000, 'message.completed')
      const recorded = completed.get(sent.messageId)!
      const ms = allAcked - start
      totals.push(ms)
      rows.push(
        `| ${round} | ${(answered - start).toFixed(0)} ms | ${ms.toFixed(0)} ms | ${(recorded - start).toFixed(0)} ms | ${Math.round((count / ms) * 1000)} |`,
      )
    }
    out('')
    out(`broadcast to ${count} connected devices (QoS 1, TLS, client certificates)`)
    out('| round | POST answered | every PUBACK at the hub | all recorded delivered | PUBACKs/s |')
    out('| --- | --- | --- | --- | --- |')
    for (const r of rows) out(r)
    const median = [...totals].sort((a, b) => a - b)[Math.floor(totals.length / 2)]!
    out(`\nmedian time until every PUBACK arrived: ${median.toFixed(0)} ms`)
  } finally {
    child.proc?.kill()
    await child.proc?.exited
    await hub.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The device side: one TLS connection per device, CONNECT, SUBSCRIBE its inbox, PUBACK every message. */
async function runDevices(args: string[]): Promise<void> {
  const [port, file] = args
  const { ca, key, devices } = JSON.parse(readFileSync(file!, 'utf8')) as {
    ca: string
    key: string
    devices: Array<{ id: string; cert: string }>
  }
  let received = 0
  const sockets: Array<{ destroy(): void }> = []
  const one = (d: { id: string; cert: string }) =>
    new Promise<void>((resolve, reject) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: Number(port),
        servername: 'localhost',
        ca,
        cert: d.cert,
        key,
      })
      sockets.push(socket)
      const parser = mqttPacket.parser({ protocolVersion: 4 })
      socket.on('error', reject)
      socket.on('data', (b: Buffer) => parser.parse(b))
      parser.on('packet', (p: mqttPacket.Packet) => {
        if (p.cmd === 'connack') {
          if (p.returnCode !== 0) return reject(new Error(`${d.id}: CONNACK ${p.returnCode}`))
          socket.write(
            mqttPacket.generate({
              cmd: 'subscribe',
              messageId: 1,
              subscriptions: [{ topic: `devices/${d.id}/inbox`, qos: 1 }],
            }),
          )
        } else if (p.cmd === 'suback') resolve()
        else if (p.cmd === 'publish') {
          received++
          if (p.qos === 1) socket.write(mqttPacket.generate({ cmd: 'puback', messageId: p.messageId! }))
        }
      })
      socket.once('secureConnect', () =>
        socket.write(
          mqttPacket.generate({
            cmd: 'connect',
            protocolId: 'MQTT',
            protocolVersion: 4,
            clean: true,
            keepalive: 0,
            clientId: d.id,
          }),
        ),
      )
    })
  // A bounded number of handshakes at a time: the hub's accept queue and CPU, not the bench, set the pace.
  let next = 0
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < devices.length) await one(devices[next++]!)
    }),
  )
  process.stdout.write('ready\n')
  // Until the parent closes stdin (or kills this process).
  for await (const _ of Bun.stdin.stream()) void _
  process.stderr.write(`devices received ${received} messages\n`)
  for (const s of sockets) s.destroy()
}

async function untilLine(stream: ReadableStream<Uint8Array>, line: string): Promise<void> {
  const decoder = new TextDecoder()
  let text = ''
  for await (const chunk of stream) {
    text += decoder.decode(chunk)
    if (text.split('\n').includes(line)) return
  }
  throw new Error(`the device process ended before "${line}"`)
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(1)
  }
}
