// Push benchmark: one silent push to 10,000 registered tokens, through the real
// path — push action → outbox batches of 500 → FCM HTTP v1 client (one request per token, OAuth
// token from a signed JWT) — against a local peer speaking the v1 wire format. The figure is the
// time from the action to the last batch's summary. Target: < 10 s.
//
// Env: TOKENS=10000, ROUNDS=3, CONCURRENCY (push.concurrency, default the config's).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { registerPushToken } from '../src/bridges/fcm/tokens.ts'
import { actionSchema } from '../src/catalog/actions.ts'
import { loadConfig } from '../src/config/load.ts'
import { createHub } from '../src/hub.ts'
import { silentLogger } from '../src/log.ts'
import { startFcmPeer } from '../test/bridges/fcm/peer.ts'

const out = (s: string) => process.stdout.write(`${s}\n`)
const TOKENS = Number(process.env.TOKENS ?? 10_000)
const ROUNDS = Number(process.env.ROUNDS ?? 3)

const peer = startFcmPeer()
const account = await peer.account('bench')
const dataDir = mkdtempSync(join(tmpdir(), 'hearth-bench-push-'))
const { config } = loadConfig({
  env: {},
  cwd: dataDir,
  overrides: {
    dataDir,
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    admin: { password: 'bench-admin-password' },
    push: {
      serviceAccount: account.json,
      baseUrl: peer.url,
      ...(process.env.CONCURRENCY ? { concurrency: Number(process.env.CONCURRENCY) } : {}),
    },
  },
})
const hub = createHub({ config, log: silentLogger() })
await hub.start()
try {
  hub.db.transaction(() => {
    for (let i = 0; i < TOKENS; i++)
      registerPushToken(
        hub.db,
        {
          token: `bench-token-${String(i).padStart(6, '0')}-${'x'.repeat(140)}`,
          platform: i % 2 ? 'android' : 'ios',
          labels: [],
        },
        Date.now(),
      )
  })()
  const expected = Math.ceil(TOKENS / config.push.batchSize)
  out(
    `${TOKENS} tokens, ${expected} batches of ≤ ${config.push.batchSize}, concurrency ${config.push.concurrency}`,
  )
  const times: number[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    let done = 0
    let sent = 0
    const finished = Promise.withResolvers<void>()
    hub.bus.on('bench', 'push.batch', (e) => {
      sent += e.detail.sent
      if (++done === expected) finished.resolve()
    })
    const before = peer.requests.length
    const t0 = performance.now()
    const result = await hub.actions.run(
      actionSchema.parse({ type: 'push', silent: true, data: { type: 'saveLocation' } }),
      {
        source: 'bench',
      },
    )
    if (!result.ok) throw new Error(`push failed: ${result.error}`)
    await finished.promise
    const seconds = (performance.now() - t0) / 1000
    hub.bus.off('bench')
    if (sent !== TOKENS || peer.requests.length - before !== TOKENS)
      throw new Error(
        `round ${round}: ${sent} sent, ${peer.requests.length - before} requests, expected ${TOKENS}`,
      )
    times.push(seconds)
    out(`round ${round}: ${seconds.toFixed(2)} s, ${Math.round(TOKENS / seconds)} sends/s`)
  }
  const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!
  out(
    `push to ${TOKENS} tokens: median ${median.toFixed(2)} s (target < 10 s) ${median < 10 ? 'OK' : 'SLOW'}`,
  )
  out(`access-token exchanges: ${peer.exchanges.length}`)
} finally {
  await hub.stop()
  await peer[Symbol.asyncDispose]()
  rmSync(dataDir, { recursive: true, force: true })
}
