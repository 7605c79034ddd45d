import { describe, expect, it } from 'bun:test'
import { spawnHub } from '../helpers/process.ts'
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

/** Resident memory of a process, in MiB (Linux). */
const rssMiB = (pid: number) => rssKiB(pid) / 1024

/**
 * Peak resident memory allowed. Most of it is garbage the collector has not reclaimed yet (a
 * flood of ~200k messages through the hub; about 100 MiB remain after a full GC in process).
 */
const RSS_BOUND_MIB = 512

describe('a QoS 0 flood', () => {
  it('leaves the hub answering MQTT and /healthz after its subscriber stops reading and disconnects', async () => {
    // This exact sequence kills a bare Aedes 1.2 with "RangeError: Maximum call stack size
    // exceeded" (mqemitter drains its queue by recursion once the subscriber is gone). The hub
    // runs in a child process so that, were it to die, only it would.
    await using hub = await spawnHub(['serve'], FLOOD_ENV)
    let maxRss = 0
    const sampler = setInterval(() => {
      if (hub.proc.exitCode === null) maxRss = Math.max(maxRss, rssMiB(hub.proc.pid))
    }, 25)
    const publishers: RawClient[] = []
    try {
      const slow = await stalledSubscriber(hub.mqttPort, 'slow')

      for (let i = 0; i < 4; i++) publishers.push(await rawConnected(hub.mqttPort, `flooder-${i}`))
      const one = floodPublish('flood/x', 64)
      const chunk = Buffer.concat(Array.from({ length: 1000 }, () => one))
      // Up to 200,000 messages (13 MiB), as fast as the hub takes them, from four publishers at
      // once; for at most two seconds (a hub that stops reading them must not stall the test).
      const sent = await flood(publishers, chunk, 1000, 50, 2000)
      expect(sent).toBeGreaterThan(50_000)

      // The subscriber goes away with the flood still queued for it.
      slow.socket.destroy()
      await slow.closed
      for (const p of publishers) await roundTrip(p)

      await expectAnswering(hub)
      expect(maxRss).toBeGreaterThan(0)
      expect(maxRss).toBeLessThan(RSS_BOUND_MIB)
    } finally {
      clearInterval(sampler)
      for (const p of publishers) p.socket.destroy()
    }
  }, 30_000)
})
