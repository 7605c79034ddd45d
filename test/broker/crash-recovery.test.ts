import { describe, expect, it } from 'bun:test'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { tempDir } from '../helpers/hub.ts'
import { spawnHub } from '../helpers/process.ts'
import { nextEvent, waitFor } from '../helpers/wait.ts'

// "Nothing acknowledged is lost": the hub runs as a real process, is SIGKILLed
// in the middle of a QoS 1 load, and restarted on the same data dir.

const ENV = {
  HEARTH_MQTT_ALLOW_ANONYMOUS: 'true',
  HEARTH_MQTT_ANONYMOUS_ACL: JSON.stringify([{ pattern: '#', access: 'readwrite' }]),
  // The load should be over in well under a second without a kill; the per-client limit would stretch it.
  HEARTH_MQTT_INBOUND_MESSAGES_PER_SECOND: '50000',
  // The offline session must hold the whole load (the default cap of 1,000 would drop the rest).
  HEARTH_MQTT_MAX_QUEUED_MESSAGES: '10000',
}
const MESSAGES = 4000
const KILL_AFTER_ACKS = 1500
const WINDOW = 200
// Padding makes one socket read hold a few hundred messages, not the whole load: at the kill some
// messages are journaled, some routed, some only half read.
const PAD = 'x'.repeat(100)

async function connect(url: string, opts: IClientOptions = {}) {
  const client = mqtt.connect(url, { reconnectPeriod: 0, ...opts })
  // Attached before CONNACK: a restored session's queue starts right after it.
  const received: { topic: string; payload: string }[] = []
  client.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }))
  const connack = await nextEvent<{ sessionPresent: boolean }>(client, 'connect')
  return { client, received, sessionPresent: connack.sessionPresent }
}

const closed = (client: MqttClient) => (client.connected ? nextEvent(client, 'close') : Promise.resolve())

describe('a hub killed with SIGKILL under QoS 1 load', () => {
  it('delivers every PUBACKed message after a restart and keeps retained messages, subscriptions and wills', async () => {
    using dir = tempDir()
    const env = { ...ENV, HEARTH_DATA_DIR: dir.path }
    const clients: MqttClient[] = []
    try {
      const acked = new Set<number>()
      let sent = 0
      {
        await using hub = await spawnHub(['serve'], env)

        // A persistent session, offline during the load.
        const sub = await connect(hub.mqttUrl, { clientId: 'crash-sub', clean: false })
        await sub.client.subscribeAsync({ 'load/#': { qos: 1 }, 'kept/#': { qos: 1 } })
        await sub.client.endAsync()

        const setup = await connect(hub.mqttUrl)
        clients.push(setup.client)
        await setup.client.publishAsync('state/a', 'A', { qos: 1, retain: true })
        await setup.client.publishAsync('state/b', 'B', { qos: 1, retain: true })
        await setup.client.endAsync()

        // Connected when the hub dies: its will must still be published.
        const device = await connect(hub.mqttUrl, {
          clientId: 'dying-device',
          will: { topic: 'kept/will', payload: Buffer.from('device lost'), qos: 1, retain: false },
        })
        clients.push(device.client)

        const pub = await connect(hub.mqttUrl, { clientId: 'loader' })
        clients.push(pub.client)
        const killed = Promise.withResolvers<number>()
        // Like a device with a send window: at most WINDOW messages unacknowledged, and a new one
        // for each PUBACK, so the kill lands while the hub is working through the load (a point in
        // the load, not a time) and the publisher is still sending.
        const send = () => {
          if (sent >= MESSAGES) return
          const i = sent++
          pub.client.publish(`load/${i}`, `${i}:${PAD}`, { qos: 1 }, (err) => {
            if (err) return
            acked.add(i)
            if (acked.size === KILL_AFTER_ACKS) hub.kill('SIGKILL').then(killed.resolve, killed.reject)
            send()
          })
        }
        for (let i = 0; i < WINDOW; i++) send()
        expect(await killed.promise).not.toBe(0)
        await closed(pub.client)
      }
      expect(acked.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS)
      expect(acked.size).toBeLessThan(sent)

      await using hub = await spawnHub(['serve'], env)
      const sub = await connect(hub.mqttUrl, { clientId: 'crash-sub', clean: false })
      clients.push(sub.client)
      expect(sub.sessionPresent).toBe(true)
      const delivered = () =>
        new Set(
          sub.received.filter((m) => m.topic.startsWith('load/')).map((m) => Number.parseInt(m.payload, 10)),
        )
      await waitFor(() => [...acked].every((i) => delivered().has(i)), {
        timeoutMs: 30_000,
        what: `${acked.size} acknowledged messages`,
      })
      await waitFor(() => sub.received.some((m) => m.topic === 'kept/will'), { what: 'the will' })
      expect(sub.received.filter((m) => m.topic === 'kept/will')).toEqual([
        { topic: 'kept/will', payload: 'device lost' },
      ])

      const load = sub.received.filter((m) => m.topic.startsWith('load/'))
      const duplicates = load.length - delivered().size
      process.stdout.write(
        `crash recovery: ${sent} sent, ${acked.size} acknowledged before SIGKILL, ${delivered().size} delivered ` +
          `(${delivered().size - acked.size} unacknowledged ones too), ${duplicates} duplicates\n`,
      )

      // The subscription survived too: a new message reaches the session without a SUBSCRIBE.
      const fresh = await connect(hub.mqttUrl)
      clients.push(fresh.client)
      await fresh.client.publishAsync('kept/after', 'yes', { qos: 1 })
      await waitFor(() => sub.received.some((m) => m.topic === 'kept/after'))

      await fresh.client.subscribeAsync({ 'state/+': { qos: 1 } })
      await waitFor(() => fresh.received.length >= 2)
      expect(fresh.received.sort((a, b) => a.topic.localeCompare(b.topic))).toEqual([
        { topic: 'state/a', payload: 'A' },
        { topic: 'state/b', payload: 'B' },
      ])
    } finally {
      await Promise.all(clients.map((c) => c.endAsync(true)))
    }
    // Two hub processes start on a shared two-core machine.
  }, 60_000)
})
