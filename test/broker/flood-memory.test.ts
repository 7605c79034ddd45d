import { describe, expect, it } from 'bun:test'
import { spawnHub } from '../helpers/process.ts'
import { waitFor } from '../helpers/wait.ts'
import {
  expectAnswering,
  FLOOD_ENV,
  flood,
  floodPublish,
  roundTrip,
  rssKiB,
  stalledSubscriber,
} from './flood.ts'
import { type RawClient, rawConnected } from './raw-mqtt.ts'

/** Resident memory of a process in MB (Linux). */
const rssMB = (pid: number) => (rssKiB(pid) * 1024) / 1e6

/** One figure of the Prometheus text. */
function metric(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)
  return m ? Number(m[1]) : Number.NaN
}

/** The hub's whole resident memory in that flood, as the engine's limits promise (docs/mqtt-limits.md). */
const PEAK_RSS_MB = 150
const PUBLISHERS = 20
const CHUNK = 500
/** Per publisher: 20 × 20,000 = 400,000 messages of 100 bytes, about 40 MB in all. */
const CHUNKS = 40

describe('a 20-client QoS 0 flood at a subscriber that reads nothing', () => {
  it('keeps the hub under 150 MB, drops for the subscriber instead of queuing, and leaves it answering', async () => {
    await using hub = await spawnHub(['serve'], { ...FLOOD_ENV, HEARTH_HTTP_METRICS_PUBLIC: 'true' })
    const pid = hub.proc.pid
    let peak = 0
    let sampler: ReturnType<typeof setInterval> | undefined
    const publishers: RawClient[] = []
    try {
      await stalledSubscriber(hub.mqttPort, 'sink')

      for (let i = 0; i < PUBLISHERS; i++) publishers.push(await rawConnected(hub.mqttPort, `flooder-${i}`))
      const one = floodPublish('flood/sensor/temperature', 72)
      // Start-up (migrations, the console's bundle) peaks higher than the idle hub until its first
      // collection; the flood is measured from an idle hub (about 75 MB).
      await waitFor(() => rssMB(pid) < 100, { what: 'the idle hub', timeoutMs: 20_000 })
      sampler = setInterval(() => {
        if (hub.proc.exitCode === null) peak = Math.max(peak, rssMB(pid))
      }, 20)
      const chunk = Buffer.concat(Array.from({ length: CHUNK }, () => one))
      // As fast as the hub takes them, all at once; at most eight seconds (a hub that stops
      // reading them must not stall the test).
      const sent = await flood(publishers, chunk, CHUNK, CHUNKS, 8000)
      expect(sent).toBeGreaterThan(100_000)
      // PINGRESP once the hub has handled everything each publisher sent before it.
      for (const p of publishers) await roundTrip(p)
      clearInterval(sampler)

      const metrics = await (await fetch(`${hub.url}/metrics`)).text()
      const received = metric(metrics, 'hearth_mqtt_messages_received_total')
      const dropped = metric(metrics, 'hearth_mqtt_messages_dropped_total')
      const bytesSent = metric(metrics, 'hearth_mqtt_bytes_sent_total')
      expect(received).toBeGreaterThanOrEqual(sent)
      // The subscriber reads nothing: what it could not take was dropped, not kept for it. What
      // went out is what the sockets' kernel buffers hold, far less than the flood.
      expect(dropped).toBeGreaterThan(received / 2)
      expect(bytesSent).toBeLessThan((received * one.length) / 2)

      await expectAnswering(hub)
      expect(peak).toBeGreaterThan(0)
      expect(Math.round(peak)).toBeLessThan(PEAK_RSS_MB)
    } finally {
      clearInterval(sampler)
      for (const p of publishers) p.socket.destroy()
    }
  }, 45_000)
})
