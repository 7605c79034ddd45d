import { expect } from 'bun:test'
import type { HubProcess } from '../helpers/process.ts'
import { connect, nextMessage } from './mqtt-fixture.ts'
import type { RawClient } from './raw-mqtt.ts'

/** A hub any client may flood: anonymous read-write on every topic, no inbound throttling. */
export const FLOOD_ENV = {
  HEARTH_MQTT_ALLOW_ANONYMOUS: 'true',
  HEARTH_MQTT_ANONYMOUS_ACL: JSON.stringify([{ pattern: '#', access: 'readwrite' }]),
  // The flood must be real: no inbound throttling.
  HEARTH_MQTT_INBOUND_MESSAGES_PER_SECOND: '100000000',
  HEARTH_MQTT_INBOUND_BYTES_PER_SECOND: '10000000000',
}

/** The hub still answers /healthz and carries a QoS 1 message between two new clients. */
export async function expectAnswering(hub: HubProcess): Promise<void> {
  const health = await fetch(`${hub.url}/healthz`)
  expect(health.status).toBe(200)
  await using a = await connect(hub.mqttUrl, { clientId: 'after-a' })
  await a.subscribeAsync('after')
  await using b = await connect(hub.mqttUrl, { clientId: 'after-b' })
  const got = nextMessage(a, 'after')
  await b.publishAsync('after', 'alive', { qos: 1 })
  expect((await got).payload).toBe('alive')
  expect(hub.proc.exitCode).toBeNull()
}

/**
 * Writes `chunk` up to `times` times from each publisher at once, as fast as the hub takes it, for
 * at most `ms` (a hub that stops reading must not stall the test). Returns the messages sent, at
 * `perChunk` messages a chunk.
 */
export async function flood(
  publishers: readonly RawClient[],
  chunk: Buffer,
  perChunk: number,
  times: number,
  ms: number,
): Promise<number> {
  const deadline = performance.now() + ms
  let sent = 0
  await Promise.all(
    publishers.map(async (p) => {
      for (let i = 0; i < times && !p.isClosed() && performance.now() < deadline; i++) {
        sent += perChunk
        if (!p.socket.write(chunk)) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.max(0, deadline - performance.now()))
            p.socket.once('drain', () => {
              clearTimeout(timer)
              resolve()
            })
            void p.closed.then(resolve)
          })
        }
      }
    }),
  )
  return sent
}
