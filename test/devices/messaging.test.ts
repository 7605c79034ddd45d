import { describe, expect, it } from 'bun:test'
import type mqttPacket from 'mqtt-packet'
import type { ActionOf } from '../../src/catalog/actions.ts'
import { addDevice, collect } from '../broker/mqtt-fixture.ts'
import { connectPacket, type RawClient, rawClient } from '../broker/raw-mqtt.ts'
import { startTestHub, type TestHub, tempDir } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'
import { api, connectDevice, device } from './support.ts'

/** A device on a bare socket: it answers PUBACK only when the test says so. */
async function rawDevice(
  t: TestHub,
  creds: { id: string; password: string },
  clean = true,
): Promise<RawClient> {
  const c = await rawClient(t.mqttPort)
  c.send(
    connectPacket(`${creds.id}-raw`, { clean, username: creds.id, password: Buffer.from(creds.password) }),
  )
  const ack = await c.next<mqttPacket.IConnackPacket>('connack')
  if (ack.returnCode !== 0) throw new Error(`CONNACK ${ack.returnCode}`)
  c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `devices/${creds.id}/inbox`, qos: 1 }] })
  await c.next('suback')
  return c
}

const message = (a: ReturnType<typeof api>, id: string) => a.get(`/messages/${id}`)

describe('messaging', () => {
  it('counts a unicast delivered only when the device’s PUBACK arrives', async () => {
    await using t = await startTestHub()
    const a = api(t)
    const creds = await addDevice(t.hub.db, 'd1')
    await using raw = await rawDevice(t, creds)
    const sent = await a.post('/messages/unicast', { deviceId: 'd1', message: { text: 'hi' } })
    expect(sent.status).toBe(202)
    const { messageId } = sent.body
    expect(sent.body).toEqual({
      messageId,
      kind: 'unicast',
      groupId: null,
      recipientSize: 1,
      sentSize: 1,
      failedDevices: [],
      expiresAt: expect.any(Number),
    })
    const publish = await raw.next<mqttPacket.IPublishPacket>('publish')
    expect(publish).toMatchObject({ topic: 'devices/d1/inbox', qos: 1 })
    expect(JSON.parse(publish.payload.toString())).toEqual({
      messageId,
      kind: 'unicast',
      message: { text: 'hi' },
      sentAt: expect.any(Number),
      expiresAt: sent.body.expiresAt,
    })
    const before = (await message(a, messageId)).body
    expect(before).toMatchObject({ queued: 1, delivered: 0 })
    expect(before.recipients).toEqual([
      {
        deviceId: 'd1',
        status: 'queued',
        sentAt: expect.any(Number),
        attempts: 1,
        deliveredAt: null,
        error: null,
        push: null,
      },
    ])
    raw.send({ cmd: 'puback', messageId: publish.messageId })
    const after = await waitFor(async () => {
      const m = (await message(a, messageId)).body
      return m.delivered === 1 && m
    })
    expect(after.recipients[0]).toMatchObject({ status: 'delivered', deliveredAt: expect.any(Number) })
  })

  it('sends multicast, broadcast and group messages to exactly their devices', async () => {
    await using t = await startTestHub()
    const a = api(t)
    await using d1 = await device(t, 'd1')
    await using d2 = await device(t, 'd2')
    await using d3 = await device(t, 'd3')
    const { groupId } = (await a.post('/groups', { name: 'g', devices: ['d2', 'd3'] })).body
    const completed = collect(t, 'message.completed')

    const multi = await a.post('/messages/multicast', { devices: ['d1', 'd3', 'ghost'], message: 'm' })
    expect(multi.body).toMatchObject({ kind: 'multicast', recipientSize: 2, failedDevices: ['ghost'] })
    const all = await a.post('/messages/broadcast', { message: 'b' })
    expect(all.body).toMatchObject({ kind: 'broadcast', recipientSize: 3, failedDevices: [] })
    const group = await a.post('/messages/group', { groupId, message: 'g' })
    expect(group.body).toMatchObject({ kind: 'group', groupId, recipientSize: 2 })

    await waitFor(() => completed.length === 3, { what: 'three messages delivered' })
    const texts = (d: typeof d1) => d.inbox().map((e) => e.message)
    expect(texts(d1)).toEqual(['m', 'b'])
    expect(texts(d2)).toEqual(['b', 'g'])
    expect(texts(d3)).toEqual(['m', 'b', 'g'])
    expect(d2.inbox()[1]).toMatchObject({ kind: 'group', groupId })
    expect(completed.map((e) => e.detail)).toEqual([
      { messageId: multi.body.messageId, kind: 'multicast', queued: 0, delivered: 2, expired: 0, failed: 0 },
      { messageId: all.body.messageId, kind: 'broadcast', queued: 0, delivered: 3, expired: 0, failed: 0 },
      { messageId: group.body.messageId, kind: 'group', queued: 0, delivered: 2, expired: 0, failed: 0 },
    ])
  })

  it('refuses more than 2,000 devices, an unknown group and a read token', async () => {
    await using t = await startTestHub()
    const a = api(t)
    const many = Array.from({ length: 2001 }, (_, i) => `d${i}`)
    expect((await a.post('/messages/multicast', { devices: many, message: 'x' })).body.code).toBe(40002)
    expect((await a.post('/messages/group', { groupId: 'grp-none', message: 'x' })).body.code).toBe(40401)
    expect((await a.post('/messages/broadcast', {})).body.code).toBe(40002)
    expect((await api(t, 'read').post('/messages/broadcast', { message: 'x' })).body.code).toBe(40301)
    expect((await a.get('/messages/nope')).body.code).toBe(40401)
    // An unknown unicast target is no error: it comes back in failedDevices, like the source platform.
    const ghost = await a.post('/messages/unicast', { deviceId: 'ghost', message: 'x' })
    expect(ghost.body).toMatchObject({ recipientSize: 0, failedDevices: ['ghost'] })
  })

  it('keeps a message for a device that is away and delivers it when it comes back, even after a restart', async () => {
    using dir = tempDir()
    await using t = await startTestHub({}, { dataDir: dir.path })
    const a = api(t)
    const creds = await addDevice(t.hub.db, 'late')
    const sent = await a.post('/messages/unicast', { deviceId: 'late', message: 'while you were out' })
    expect(sent.body).toMatchObject({ recipientSize: 1, sentSize: 0 })
    expect((await message(a, sent.body.messageId)).body.recipients[0]).toMatchObject({
      status: 'queued',
      sentAt: null,
      attempts: 0,
    })
    await t.stop()
    await using again = await startTestHub({}, { dataDir: dir.path })
    await using d = await connectDevice(again, creds)
    await waitFor(() => d.inbox().length === 1, { what: 'the queued message' })
    expect(d.inbox()[0]).toMatchObject({ messageId: sent.body.messageId, message: 'while you were out' })
    await waitFor(async () => (await message(api(again), sent.body.messageId)).body.delivered === 1)
  })

  it('delivers to a persistent session that comes back without subscribing again', async () => {
    await using t = await startTestHub()
    const a = api(t)
    const creds = await addDevice(t.hub.db, 'p1')
    const session = { clean: false, clientId: 'p1-session' }
    const first = await connectDevice(t, creds, { mqtt: session })
    await first.client.endAsync()
    await waitFor(() => t.hub.db.query("SELECT 1 FROM devices WHERE id = 'p1' AND online = 0").get())
    const sent = await a.post('/messages/unicast', { deviceId: 'p1', message: 'kept' })
    await using back = await connectDevice(t, creds, { mqtt: session, subscribe: [] })
    await waitFor(() => back.inbox().length === 1, { what: 'the message on the resumed session' })
    await waitFor(async () => (await message(a, sent.body.messageId)).body.delivered === 1)
  })

  it('expires a message a device did not come back for, and never delivers it late', async () => {
    await using t = await startTestHub()
    const a = api(t)
    const away = await addDevice(t.hub.db, 'away')
    const held = await addDevice(t.hub.db, 'held')
    // `held` gets the message but never acknowledges it: its persistent session keeps it queued.
    const raw = await rawDevice(t, held, false)
    const completed = collect(t, 'message.completed')
    const sent = await a.post('/messages/multicast', {
      devices: ['away', 'held'],
      message: 'soon stale',
      ttl: 300,
    })
    await raw.next('publish')
    await raw[Symbol.asyncDispose]()
    await waitFor(() => completed.some((e) => e.detail.messageId === sent.body.messageId), {
      what: 'the message to expire',
    })
    expect(completed.at(-1)?.detail).toMatchObject({ queued: 0, delivered: 0, expired: 2 })
    await using late = await connectDevice(t, away)
    const again = await rawClient(t.mqttPort)
    again.send(
      connectPacket('held-raw', { clean: false, username: 'held', password: Buffer.from(held.password) }),
    )
    const ack = await again.next<mqttPacket.IConnackPacket>('connack')
    expect(ack.sessionPresent).toBe(true)
    // Both are connected and subscribed: a fresh message arrives, the stale one does not.
    const fresh = await a.post('/messages/multicast', { devices: ['away', 'held'], message: 'fresh' })
    await waitFor(() => late.inbox().length === 1)
    const publish = await again.next<mqttPacket.IPublishPacket>('publish')
    expect(JSON.parse(publish.payload.toString()).messageId).toBe(fresh.body.messageId)
    expect(late.inbox().map((e) => e.message)).toEqual(['fresh'])
    await again[Symbol.asyncDispose]()
  })

  it('reports push as not delivered without a push bridge, and hands a group push to the bridge that is there', async () => {
    await using t = await startTestHub()
    const a = api(t)
    await a.post('/devices', { id: 'd1' })
    const { groupId } = (await a.post('/groups', { name: 'g', devices: ['d1'] })).body
    const push = { title: 'Door', body: 'opened' }
    const none = await a.post('/messages/unicast', { deviceId: 'd1', message: 'x', push })
    expect((await message(a, none.body.messageId)).body.recipients[0].push).toEqual({
      status: 'failed',
      error: 'no push bridge in this hub',
    })
    // The push bridge plugs in as the runner's `push` executor.
    const pushed: ActionOf<'push'>[] = []
    t.hub.actions.register('push', (action) => {
      pushed.push(action)
      return { sent: 1 }
    })
    const viaGroup = await a.post('/messages/group', { groupId, message: 'x', push })
    const direct = await a.post('/messages/multicast', { devices: ['d1', 'ghost'], message: 'x', push })
    expect(pushed).toEqual([
      expect.objectContaining({
        type: 'push',
        group: groupId,
        ...push,
        data: { messageId: viaGroup.body.messageId },
      }),
      expect.objectContaining({
        type: 'push',
        devices: ['d1'],
        ...push,
        data: { messageId: direct.body.messageId },
      }),
    ])
    const got = (await message(a, viaGroup.body.messageId)).body
    expect(got.push).toEqual(push)
    expect(got.recipients[0].push).toEqual({ status: 'sent', error: null })
  })

  it('lists messages and pages through recipients by status', async () => {
    await using t = await startTestHub()
    const a = api(t)
    for (const id of ['a1', 'a3']) await a.post('/devices', { id })
    await using _a2 = await device(t, 'a2')
    const sent = await a.post('/messages/broadcast', { message: 'x' })
    await waitFor(async () => (await message(a, sent.body.messageId)).body.delivered === 1)
    const page1 = (await a.get(`/messages/${sent.body.messageId}?status=queued&limit=1`)).body
    expect(page1.recipients.map((r: { deviceId: string }) => r.deviceId)).toEqual(['a1'])
    const page2 = (
      await a.get(`/messages/${sent.body.messageId}?status=queued&limit=1&cursor=${page1.nextCursor}`)
    ).body
    expect(page2.recipients.map((r: { deviceId: string }) => r.deviceId)).toEqual(['a3'])
    expect(page2.nextCursor).toBeUndefined()
    const list = (await a.get('/messages')).body.items
    expect(list).toEqual([
      expect.objectContaining({ messageId: sent.body.messageId, queued: 2, delivered: 1 }),
    ])
  })
})
