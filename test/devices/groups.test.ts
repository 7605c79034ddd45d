import { describe, expect, it } from 'bun:test'
import { nextMessage } from '../broker/mqtt-fixture.ts'
import { startTestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'
import { api, device, granted } from './support.ts'

describe('device groups', () => {
  it('creates, adds, subtracts and deletes with the source platform’s result shapes', async () => {
    await using t = await startTestHub()
    const a = api(t)
    for (const id of ['d1', 'd2', 'd3']) await a.post('/devices', { id })

    const created = await a.post('/groups', {
      name: 'kitchen',
      description: 'lights',
      devices: ['d1', 'ghost', 'd1'],
    })
    expect(created.status).toBe(201)
    const groupId = created.body.groupId as string
    expect(created.body).toEqual({ groupId, deviceSize: 1, failedDevices: ['ghost'] })

    const added = await a.post(`/groups/${groupId}/add`, { devices: ['d1', 'd2', 'd3', 'nope'] })
    expect(added.body).toEqual({ groupId, totalDeviceSize: 3, addedDeviceSize: 2, failedDevices: ['nope'] })

    const removed = await a.post(`/groups/${groupId}/subtract`, { devices: ['d2', 'nope'] })
    expect(removed.body).toEqual({
      groupId,
      totalDeviceSize: 2,
      removedDeviceSize: 1,
      failedDevices: ['nope'],
    })

    const got = await a.get(`/groups/${groupId}`)
    expect(got.body).toMatchObject({
      groupId,
      name: 'kitchen',
      description: 'lights',
      deviceSize: 2,
      devices: ['d1', 'd3'],
    })
    expect((await a.get('/groups')).body.items).toEqual([expect.objectContaining({ groupId, deviceSize: 2 })])

    expect((await a.delete(`/groups/${groupId}`)).body).toEqual({ groupId })
    expect((await a.get(`/groups/${groupId}`)).body.code).toBe(40401)
    expect((await a.get('/groups')).body.items).toEqual([])
  })

  it('answers an unknown group with 40401, more than 2,000 devices with 40002 and a read token with 40301', async () => {
    await using t = await startTestHub()
    const a = api(t)
    expect((await a.post('/groups/grp-missing/add', { devices: ['d1'] })).body.code).toBe(40401)
    expect((await a.post('/groups/grp-missing/subtract', { devices: ['d1'] })).body.code).toBe(40401)
    expect((await a.delete('/groups/grp-missing')).body.code).toBe(40401)
    const many = Array.from({ length: 2001 }, (_, i) => `d${i}`)
    expect((await a.post('/groups', { name: 'big', devices: many })).body.code).toBe(40002)
    const ok = await a.post('/groups', { name: 'big', devices: many.slice(0, 2000) })
    expect(ok.body).toMatchObject({ deviceSize: 0, failedDevices: many.slice(0, 2000) })
    expect((await api(t, 'read').post('/groups', { name: 'x' })).body.code).toBe(40301)
  })

  it('lets members read groups/<groupId>/#, and only while they are members', async () => {
    await using t = await startTestHub()
    const a = api(t)
    await using member = await device(t, 'member', { subscribe: [] })
    await using other = await device(t, 'other', { subscribe: [] })
    const { groupId } = (await a.post('/groups', { name: 'g', devices: ['member'] })).body
    const filter = `groups/${groupId}/#`
    expect(await granted(member.client, filter)).toBe(1)
    expect(await granted(other.client, filter)).toBe(128)
    const got = nextMessage(member.client, `groups/${groupId}/lights`)
    await a.post('/publish', { topic: `groups/${groupId}/lights`, payload: 'on', qos: 1 })
    expect((await got).payload).toBe('on')
    // Members may read the group's topics, not write them.
    await member.client.publishAsync(`groups/${groupId}/lights`, 'off', { qos: 1 })
    await waitFor(() => t.hub.db.query("SELECT 1 FROM events WHERE type = 'acl.denied'").get())

    // Leaving the group ends the subscription it allowed, and a new one is refused.
    await a.post(`/groups/${groupId}/subtract`, { devices: ['member'] })
    expect(await granted(member.client, `devices/member/ping`)).toBe(1)
    await a.post('/publish', { topic: `groups/${groupId}/lights`, payload: 'after', qos: 1 })
    const ping = nextMessage(member.client, 'devices/member/ping')
    await a.post('/publish', { topic: 'devices/member/ping', payload: 'ping', qos: 1 })
    await ping
    expect(member.messages.map((m) => m.payload)).toEqual(['on', 'ping'])
    expect(await granted(member.client, filter)).toBe(128)
  })

  it('records every result as an event', async () => {
    await using t = await startTestHub()
    const a = api(t)
    await a.post('/devices', { id: 'd1' })
    const { groupId } = (await a.post('/groups', { name: 'g' })).body
    await a.post(`/groups/${groupId}/add`, { devices: ['d1'] })
    await a.post(`/groups/${groupId}/subtract`, { devices: ['d1'] })
    await a.delete(`/groups/${groupId}`)
    const events = t.hub.db
      .query("SELECT type, subject FROM events WHERE type LIKE 'group.%' ORDER BY id")
      .all()
    expect(events).toEqual(
      ['group.created', 'group.added', 'group.subtracted', 'group.deleted'].map((type) => ({
        type,
        subject: groupId,
      })),
    )
  })
})
