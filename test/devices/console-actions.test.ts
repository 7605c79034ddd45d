import { describe, expect, it } from 'bun:test'
import { createUser } from '../../src/store/users.ts'
import { startTestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'
import { api, device, openConsole } from './support.ts'

describe('console actions on /ws', () => {
  it('answers source (c)’s group actions in the {id, ok, data} envelope and shows each result to every console', async () => {
    await using t = await startTestHub()
    await api(t).post('/devices', { id: 'd1' })
    using c1 = await openConsole(t)
    using c2 = await openConsole(t)
    const created = await c1.request('createDeviceGroup', {
      groupName: 'hall',
      groupDesc: null,
      deviceList: ['d1', 'x'],
    })
    expect(created).toEqual({
      id: expect.any(Number),
      ok: true,
      data: { groupId: expect.stringMatching(/^grp-/), deviceSize: 1, failedDevices: ['x'] },
    })
    const groupId = (created as { data: { groupId: string } }).data.groupId
    const event = await waitFor(() => c2.events('group.created')[0])
    expect(event).toMatchObject({
      subject: groupId,
      detail: { groupId, name: 'hall', description: null, deviceSize: 1, failedDevices: ['x'] },
    })
    expect(c1.events('group.created')).toHaveLength(1)
    expect(await c1.request('listDeviceGroups', {})).toMatchObject({
      ok: true,
      data: { items: [{ groupId, deviceSize: 1 }] },
    })
    expect(await c2.request('getDeviceGroup', { groupId })).toMatchObject({
      ok: true,
      data: { devices: ['d1'] },
    })
  })

  it('answers errors with a code: unknown group, bad body, too small a role', async () => {
    await using t = await startTestHub()
    await createUser(t.hub.db, 'viewer', 'viewer-password-1', 'viewer')
    using admin = await openConsole(t)
    using viewer = await openConsole(t, 'viewer')
    expect(await admin.request('addDeviceGroup', { groupId: 'grp-none', deviceList: ['d1'] })).toMatchObject({
      ok: false,
      code: 40401,
    })
    expect(await admin.request('sendGroupMsg', { groupId: 'grp-none', message: 'x' })).toMatchObject({
      ok: false,
      code: 40401,
    })
    const tooMany = Array.from({ length: 2001 }, (_, i) => `d${i}`)
    expect(await admin.request('sendMulticastMsg', { message: 'x', deviceList: tooMany })).toMatchObject({
      ok: false,
      code: 40002,
    })
    expect(await admin.request('createDeviceGroup', { groupDesc: 'no name' })).toMatchObject({
      ok: false,
      code: 40002,
    })
    expect(await viewer.request('sendBroadcastMsg', { message: 'x' })).toMatchObject({
      ok: false,
      code: 40301,
    })
    expect(await viewer.request('listDeviceGroups', {})).toMatchObject({ ok: true })
  })

  it('sends messages with the four send actions and reports each send to every console', async () => {
    await using t = await startTestHub()
    await using d1 = await device(t, 'd1')
    using c1 = await openConsole(t)
    using c2 = await openConsole(t)
    const reply = await c1.request('sendUnicastMsg', { deviceId: 'd1', message: 'ping' })
    expect(reply).toMatchObject({
      ok: true,
      data: { kind: 'unicast', recipientSize: 1, sentSize: 1, failedDevices: [] },
    })
    const { messageId } = (reply as { data: { messageId: string } }).data
    await waitFor(() => d1.inbox().length === 1)
    for (const c of [c1, c2]) {
      await waitFor(() => c.events('message.completed').length === 1)
      expect(c.events('message.sent')[0]?.detail).toMatchObject({ messageId, kind: 'unicast' })
      expect(c.events('message.completed')[0]?.detail).toMatchObject({ messageId, delivered: 1 })
    }
    expect(await c2.request('getMessage', { messageId })).toMatchObject({
      ok: true,
      data: { messageId, delivered: 1, recipients: [{ deviceId: 'd1', status: 'delivered' }] },
    })
  })
})
