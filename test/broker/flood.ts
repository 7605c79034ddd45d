import { expect } from 'bun:test'
import { readFileSync } from 'node:fs'
import mqttPacket from 'mqtt-packet'
import type { HubProcess } from '../helpers/process.ts'
import { connect, nextMessage } from './mqtt-fixture.ts'
import { type RawClient, rawConnected } from './raw-mqtt.ts'

/** A hub any client may flood: anonymous read-write on every topic, no inbound throttling. */
export const FLOOD_ENV = {
  HEARTH_MQTT_ALLOW_ANONYMOUS: 'true',
  HEARTH_MQTT_ANONYMOUS_ACL: JSON.stringify([{ pattern: '#', access: 'readwrite' }]),
  // The flood must be real: no inbound throttling.
  HEARTH_MQTT_INBOUND_MESSAGES_PER_SECOND: '100000000',
  HEARTH_MQTT_INBOUND_BYTES_PER_SECOND: '10000000000',
}

/** Resident memory of a process in KiB (Linux). */
export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) : 0
}

/** A client subscribed to `flood/#` at QoS 0 that then reads nothing (its socket paused). */
export async function stalledSubscriber(port: number, clientId: string): Promise<RawClient> {
  const c = await rawConnected(port, clientId)
  c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'flood/#', qos: 0 }] })
  await c.next('suback')
  c.socket.pause()
  return c
}

/** One QoS 0 PUBLISH of `payloadBytes` bytes, to be repeated into a flood's chunk. */
export function floodPublish(topic: string, payloadBytes: number): Buffer {
  return mqttPacket.generate({
    cmd: 'publish',
    topic,
    payload: Buffer.alloc(payloadBytes, 120),
    qos: 0,
    retain: false,
    dup: false,
  })
}

/** Sends PINGREQ and waits for PINGRESP: the hub has handled everything this client sent before. */
export async function roundTrip(c: RawClient): Promise<void> {
  c.send({ cmd: 'pingreq' })
  await c.next('pingresp', 20_000)
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
