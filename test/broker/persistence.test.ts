import type { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import mqtt, { type IClientOptions } from 'mqtt'
import type { IConnackPacket, Packet } from 'mqtt-packet'
import { createLogger } from '../../src/log.ts'
import type { StoreOp } from '../../src/mqtt/types.ts'
import { migrate } from '../../src/store/migrate.ts'
import { createSqliteEngineStore } from '../../src/store/mqtt/sqlite-store.ts'
import { DB_FILE, openDatabase } from '../../src/store/open.ts'
import { startTestHub, tempDir } from '../helpers/hub.ts'
import { nextEvent, waitFor } from '../helpers/wait.ts'
import { connectPacket, rawClient } from './raw-mqtt.ts'

// What the store's own tests (test/store/mqtt-store.test.ts) do not cover: the hub's broker and its store
// together, with state that must outlive the hub process.

// Anonymous clients with the run of every topic: these tests are about storage, not the ACL.
const OPEN = { mqtt: { allowAnonymous: true, anonymousAcl: [{ pattern: '#', access: 'readwrite' }] } }
const log = createLogger({ level: 'silent' })

/** Writes to a stopped hub's database what a run that was killed had made durable. */
function asDeadRun(dir: string, ops: StoreOp[]) {
  const db = openDatabase(join(dir, DB_FILE))
  try {
    migrate(db)
    createSqliteEngineStore({ db, log }).write(ops)
  } finally {
    db.close()
  }
}

/** A client whose message handler is attached before CONNACK, so queued messages are not missed. */
async function connect(url: string, opts: IClientOptions = {}) {
  const client = mqtt.connect(url, { reconnectPeriod: 0, ...opts })
  const received: { topic: string; payload: string; retain: boolean }[] = []
  client.on('message', (topic, payload, packet) =>
    received.push({ topic, payload: payload.toString(), retain: packet.retain }),
  )
  const connack = await nextEvent<{ sessionPresent: boolean }>(client, 'connect')
  return {
    client,
    received,
    sessionPresent: connack.sessionPresent,
    async [Symbol.asyncDispose]() {
      await client.endAsync(true)
    },
  }
}

const rows = (db: Database, table: string) =>
  (db.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n

describe('retained messages', () => {
  it('sends a subscriber each matching retained message once for a SUBSCRIBE with several filters', async () => {
    await using t = await startTestHub(OPEN)
    await using pub = await connect(t.mqttUrl)
    for (const topic of ['a/1', 'a/2', 'b/1'])
      await pub.client.publishAsync(topic, topic, { qos: 1, retain: true })
    await using sub = await connect(t.mqttUrl)
    await sub.client.subscribeAsync({
      'a/+': { qos: 1 },
      'a/1': { qos: 1 },
      '+/1': { qos: 0 },
      barrier: { qos: 1 },
    })
    await waitFor(() => sub.received.length >= 3)
    // Retained messages go out right after the SUBACK: once a later message is in, all of them are.
    await pub.client.publishAsync('barrier', 'x', { qos: 1 })
    await waitFor(() => sub.received.some((m) => m.topic === 'barrier'))
    // a/1 matches all three filters and b/1 only the last: each comes once.
    expect(sub.received.map((m) => m.topic).sort()).toEqual(['a/1', 'a/2', 'b/1', 'barrier'])
  })
})

describe('state across a hub restart', () => {
  it("delivers a persistent session's queued QoS 1 messages after a restart", async () => {
    using dir = tempDir()
    {
      await using t = await startTestHub(OPEN, { dataDir: dir.path })
      {
        await using sub = await connect(t.mqttUrl, { clientId: 'sleeper', clean: false })
        await sub.client.subscribeAsync('queue/#', { qos: 1 })
      }
      await using pub = await connect(t.mqttUrl)
      for (let i = 0; i < 50; i++) await pub.client.publishAsync(`queue/${i}`, `m${i}`, { qos: 1 })
    }
    await using t = await startTestHub(OPEN, { dataDir: dir.path })
    await using sub = await connect(t.mqttUrl, { clientId: 'sleeper', clean: false })
    expect(sub.sessionPresent).toBe(true)
    await waitFor(() => sub.received.length >= 50, { what: '50 queued messages' })
    expect(sub.received.map((m) => m.payload)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`))
    // Acknowledged deliveries leave the queue.
    await waitFor(() => rows(t.hub.db, 'broker_queue') === 0, { what: 'an empty queue' })
  })

  it('keeps retained messages, a cleared retained topic and subscriptions across a restart', async () => {
    using dir = tempDir()
    {
      await using t = await startTestHub(OPEN, { dataDir: dir.path })
      {
        await using sub = await connect(t.mqttUrl, { clientId: 'keeper', clean: false })
        await sub.client.subscribeAsync({ 'alerts/+': { qos: 1 }, 'status/#': { qos: 0 } })
      }
      await using pub = await connect(t.mqttUrl)
      await pub.client.publishAsync('state/lamp', 'on', { qos: 0, retain: true })
      await pub.client.publishAsync('state/fan', Buffer.from([0, 1, 2, 255]), { qos: 1, retain: true })
      await pub.client.publishAsync('state/door', 'open', { qos: 1, retain: true })
      // [MQTT-3.3.1-10] an empty retained payload clears the topic.
      await pub.client.publishAsync('state/door', '', { qos: 1, retain: true })
    }
    await using t = await startTestHub(OPEN, { dataDir: dir.path })

    await using fresh = await connect(t.mqttUrl)
    const retained: { topic: string; payload: Buffer }[] = []
    fresh.client.on('message', (topic, payload) => retained.push({ topic, payload }))
    await fresh.client.subscribeAsync({ 'state/#': { qos: 1 }, barrier: { qos: 1 } })
    await waitFor(() => retained.length >= 2)
    await fresh.client.publishAsync('barrier', '', { qos: 1 })
    await waitFor(() => retained.some((m) => m.topic === 'barrier'))
    expect(retained.sort((a, b) => a.topic.localeCompare(b.topic))).toEqual([
      { topic: 'barrier', payload: Buffer.alloc(0) },
      { topic: 'state/fan', payload: Buffer.from([0, 1, 2, 255]) },
      { topic: 'state/lamp', payload: Buffer.from('on') },
    ])

    // The persistent session's subscriptions are back without a SUBSCRIBE.
    await using sub = await connect(t.mqttUrl, { clientId: 'keeper', clean: false })
    expect(sub.sessionPresent).toBe(true)
    await fresh.client.publishAsync('alerts/smoke', 'kitchen', { qos: 1 })
    await fresh.client.publishAsync('status/hub', 'up', { qos: 0 })
    await waitFor(() => sub.received.length >= 2, { what: `both, got ${JSON.stringify(sub.received)}` })
    expect(sub.received.map((m) => `${m.topic}=${m.payload}`).sort()).toEqual([
      'alerts/smoke=kitchen',
      'status/hub=up',
    ])
  })
})

describe('what a killed hub left behind', () => {
  // The crash itself is played with a real SIGKILL in crash-recovery.test.ts; here the state a
  // killed run leaves is written directly, so each kind is proven deterministically.

  /** A stopped hub's database with a persistent session (clean = false) on `topic` at QoS 1. */
  async function sessionOn(dir: string, topic: string) {
    await using t = await startTestHub(OPEN, { dataDir: dir })
    await using sub = await connect(t.mqttUrl, { clientId: 'watcher', clean: false })
    await sub.client.subscribeAsync(topic, { qos: 1 })
  }

  it('delivers a message queued for a session, and sent but not acknowledged, when the hub died', async () => {
    using dir = tempDir()
    await sessionOn(dir.path, 'journal/#')
    const message = { topic: 'journal/1', payload: Buffer.from('acked'), qos: 1 as const, retain: false }
    // Sent with packet id 7 and never acknowledged: [MQTT-4.4.0-1] it goes again, DUP set.
    asDeadRun(dir.path, [
      { op: 'enqueue', clientId: 'watcher', item: { seq: 1, message, packetId: 7, state: 'sent' } },
      {
        op: 'enqueue',
        clientId: 'watcher',
        item: { seq: 2, message: { ...message, topic: 'journal/2', payload: Buffer.from('queued') } },
      },
    ])

    await using t = await startTestHub(OPEN, { dataDir: dir.path })
    await using sub = await connect(t.mqttUrl, { clientId: 'watcher', clean: false })
    await waitFor(() => sub.received.length >= 2)
    expect(sub.received).toEqual([
      { topic: 'journal/1', payload: 'acked', retain: false },
      { topic: 'journal/2', payload: 'queued', retain: false },
    ])
    await waitFor(() => rows(t.hub.db, 'broker_queue') === 0, { what: 'an empty queue' })
  })

  it('remembers a QoS 2 packet id received before the hub died, so a resend is not delivered twice', async () => {
    using dir = tempDir()
    await sessionOn(dir.path, 'exactly/#')
    {
      await using t = await startTestHub(OPEN, { dataDir: dir.path })
      await using _sender = await connect(t.mqttUrl, { clientId: 'sender', clean: false })
    }
    // [MQTT-4.3.3-10] id 9 was PUBRECed (its message routed) and not yet released by PUBREL.
    asDeadRun(dir.path, [{ op: 'incoming', clientId: 'sender', packetId: 9 }])

    await using t = await startTestHub(OPEN, { dataDir: dir.path })
    await using sub = await connect(t.mqttUrl, { clientId: 'watcher', clean: false })
    await using raw = await rawClient(t.mqttPort)
    raw.send(connectPacket('sender', { clean: false }))
    expect((await raw.next<IConnackPacket>('connack')).sessionPresent).toBe(true)
    // The sender did not hear the PUBREC and sends the PUBLISH again, DUP set [MQTT-4.3.3-2].
    const resend = { cmd: 'publish', topic: 'exactly/once', payload: Buffer.from('again'), qos: 2, dup: true }
    raw.send({ ...resend, messageId: 9, retain: false } as Packet)
    await raw.next('pubrec')
    raw.send({ cmd: 'pubrel', messageId: 9 })
    await raw.next('pubcomp')
    // A new message after it arrives; the resent one, published first, never does.
    raw.send({
      cmd: 'publish',
      topic: 'exactly/new',
      payload: Buffer.from('fresh'),
      qos: 1,
      messageId: 10,
      retain: false,
      dup: false,
    })
    await raw.next('puback')
    await waitFor(() => sub.received.length >= 1)
    expect(sub.received).toEqual([{ topic: 'exactly/new', payload: 'fresh', retain: false }])
  })

  it('publishes the will of a client whose hub died', async () => {
    using dir = tempDir()
    await sessionOn(dir.path, 'wills/#')
    {
      await using t = await startTestHub(OPEN, { dataDir: dir.path })
      await using _sensor = await connect(t.mqttUrl, { clientId: 'sensor-1', clean: false })
    }
    const will = { topic: 'wills/sensor-1', payload: Buffer.from('gone'), qos: 1 as const, retain: false }
    asDeadRun(dir.path, [{ op: 'will', clientId: 'sensor-1', will: { message: will, delayInterval: 0 } }])

    await using t = await startTestHub(OPEN, { dataDir: dir.path })
    await using sub = await connect(t.mqttUrl, { clientId: 'watcher', clean: false })
    await waitFor(() => sub.received.length >= 1)
    expect(sub.received).toEqual([{ topic: 'wills/sensor-1', payload: 'gone', retain: false }])
    await waitFor(() => rows(t.hub.db, 'broker_wills') === 0, { what: 'the will to be deleted' })
  })
})
