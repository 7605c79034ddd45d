import { describe, expect, it } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { type ReceivedRequest, startReceiver } from '../bridges/webhook/receiver.ts'
import { tempDir } from '../helpers/hub.ts'
import { spawnHub } from '../helpers/process.ts'
import { waitFor } from '../helpers/wait.ts'

const MESSAGES = 30

describe('outbox durability', () => {
  it('delivers every acknowledged message at least once across a SIGKILL while the receiver fails', async () => {
    await using receiver = startReceiver()
    let failing = true
    const accepted: ReceivedRequest[] = []
    receiver.behave('/crash', (req) => {
      if (failing) return new Response('down', { status: 503 })
      accepted.push(req)
      return new Response('ok')
    })
    using dir = tempDir('hearth-crash-')
    const config = join(dir.path, 'hearth.toml')
    writeFileSync(
      config,
      `[mqtt]
allowAnonymous = true
anonymousAcl = [{ pattern = "#", access = "readwrite" }]

[outbox]
backoffBase = "20ms"
backoffMax = "200ms"
breakerThreshold = 1000
maxAttempts = 100000

[[webhooks]]
name = "crash"
filter = "crash/#"
url = "${receiver.url('/crash')}"
`,
    )
    const env = { HEARTH_DATA_DIR: join(dir.path, 'data') }

    await using first = await spawnHub(['serve', '--config', config], env)
    const client = await mqtt.connectAsync(first.mqttUrl, { reconnectPeriod: 0 })
    for (let i = 0; i < MESSAGES; i++) await client.publishAsync(`crash/${i}`, String(i), { qos: 1 })
    await client.endAsync(true)
    // Killed while every message is queued and failing (each attempted once at least).
    const attempted = () => new Set(receiver.at('/crash').map((r) => r.body)).size
    await waitFor(() => attempted() === MESSAGES, { what: 'a failed attempt of every message' })
    expect(await first.kill('SIGKILL')).not.toBe(0)
    const seenBeforeRestart = receiver.at('/crash').length
    const keysBeforeKill = new Set(receiver.at('/crash').map((r) => r.headers['idempotency-key']!))
    await using second = await spawnHub(['serve', '--config', config], env)
    // Still failing after the restart: the queue survived and is being retried.
    await waitFor(() => receiver.at('/crash').length > seenBeforeRestart, {
      what: 'retries after the restart',
    })
    failing = false

    const messages = () => new Set(accepted.map((r) => (JSON.parse(r.body) as { message: string }).message))
    // The deliveries the killed hub had stored are the ones delivered: the same keys as before the kill.
    const undelivered = () => {
      const acceptedKeys = new Set(accepted.map((r) => r.headers['idempotency-key']!))
      return [...keysBeforeKill].filter((k) => !acceptedKeys.has(k))
    }
    await waitFor(() => undelivered().length === 0, { timeoutMs: 20_000, what: 'every stored delivery' })
    expect([...messages()].map(Number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: MESSAGES }, (_, i) => i),
    )
    // Deduplicable: a key always carries the same message, however often it was sent.
    const byKey = new Map<string, Set<string>>()
    for (const r of receiver.at('/crash')) {
      const key = r.headers['idempotency-key']!
      byKey.set(key, (byKey.get(key) ?? new Set()).add((JSON.parse(r.body) as { message: string }).message))
    }
    expect([...byKey.values()].every((m) => m.size === 1)).toBe(true)
    expect(byKey.size).toBeGreaterThanOrEqual(MESSAGES)
    expect(second.proc.exitCode).toBeNull()
  }, 60_000)
})
