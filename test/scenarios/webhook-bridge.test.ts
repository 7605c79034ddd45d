// Source system (e) end to end: an HTTP POST becomes an MQTT publish, and MQTT
// messages on a wildcard filter become HTTP POSTs to a local receiver, through the outbox,
// surviving a receiver that fails for a while.
import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import mqtt from 'mqtt'
import { parse as parseToml } from 'smol-toml'
import { createDevice } from '../../src/devices/registry.ts'
import { startReceiver } from '../bridges/webhook/receiver.ts'
import { startTestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'

const example = parseToml(
  readFileSync(resolve(import.meta.dir, '../../examples/webhook-bridge.toml'), 'utf8'),
) as {
  webhooks: Array<Record<string, unknown>>
}

describe('source (e): the webhook ⇄ MQTT bridge', () => {
  it('turns POSTs into publishes and publishes into POSTs that survive a failing receiver', async () => {
    await using receiver = startReceiver()
    let failing = true
    receiver.behave('/webhook', () => (failing ? new Response('down', { status: 503 }) : new Response('ok')))
    const config = {
      ...example,
      webhooks: example.webhooks.map((w) => ({ ...w, url: receiver.url('/webhook') })),
      outbox: { backoffBase: '5ms', backoffMax: '40ms', breakerThreshold: 1000 },
    }
    await using t = await startTestHub(config)
    const { credentials } = await createDevice(t.hub.db, { id: 'lamp' })
    const lamp = await mqtt.connectAsync(t.mqttUrl, {
      reconnectPeriod: 0,
      username: credentials.username,
      password: credentials.password,
    })
    try {
      const got: string[] = []
      lamp.on('message', (_topic, payload) => got.push(payload.toString()))
      await lamp.subscribeAsync('hooks/x', { qos: 1 })

      // HTTP → MQTT, as the Flask endpoint did.
      const json = await fetch(`${t.url}/hooks/x`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'on' }),
      })
      expect([json.status, await json.json()]).toEqual([200, { status: 'ok' }])
      const text = await fetch(`${t.url}/hooks/x`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'off',
      })
      expect(text.status).toBe(200)
      await waitFor(() => got.length === 2)
      expect(got).toEqual(['on', 'off'])

      // MQTT → HTTP through a wildcard filter, while the receiver fails.
      const sent = Array.from({ length: 20 }, (_, i) => ({
        topic: `devices/lamp/events/${i % 2 ? 'button' : 'motion/hall'}`,
        message: `e${i}`,
      }))
      for (const m of sent) await lamp.publishAsync(m.topic, m.message, { qos: 1 })
      await lamp.publishAsync('devices/lamp/status-not-matched', 'x', { qos: 1 })
      await waitFor(() => receiver.at('/webhook').length >= 40, {
        what: 'retries against the failing receiver',
      })
      failing = false
      const delivered = await waitFor(
        () => {
          const ok = new Map<string, { topic: string; message: string }>()
          for (const r of receiver.at('/webhook')) {
            const body = JSON.parse(r.body) as { topic: string; message: string }
            ok.set(r.headers['idempotency-key']!, { topic: body.topic, message: body.message })
          }
          const messages = new Set([...ok.values()].map((m) => m.message))
          return sent.every((m) => messages.has(m.message)) ? ok : undefined
        },
        { what: 'every message delivered once the receiver recovered', timeoutMs: 20_000 },
      )
      // At least once, deduplicable: one Idempotency-Key per message, each with its own topic.
      expect([...delivered.values()].sort((a, b) => a.message.localeCompare(b.message))).toEqual(
        [...sent].sort((a, b) => a.message.localeCompare(b.message)),
      )
      expect(
        receiver
          .at('/webhook')
          .every((r) => /^t=\d+,v1=[0-9a-f]{64}$/.test(r.headers['x-hearth-signature'] ?? '')),
      ).toBe(true)
    } finally {
      await lamp.endAsync()
    }
  })
})
