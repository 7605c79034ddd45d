// Source (c), end to end: the push-platform app server whose browser console
// created, added to, subtracted from and deleted device groups, sent unicast, multicast,
// broadcast and group messages and showed every result, and every upstream message, live.
import { describe, expect, it } from 'bun:test'
import type { GroupCreateResult, Reply } from '../../src/protocol.ts'
import { api, device, openConsole } from '../devices/support.ts'
import { startTestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'

const data = <T = Record<string, unknown>>(r: Reply) => {
  if (!r.ok) throw new Error(`console action failed: ${r.code} ${r.error}`)
  return r.data as T
}

describe('source (c): device groups and messaging from two live consoles', () => {
  it('plays the push platform’s console through real consoles and devices', async () => {
    await using t = await startTestHub()
    await using d1 = await device(t, 'd1')
    await using d2 = await device(t, 'd2')
    await using d3 = await device(t, 'd3')
    const devices = [d1, d2, d3]
    using alice = await openConsole(t)
    using bob = await openConsole(t)
    const consoles = [alice, bob]
    const both = async (type: Parameters<typeof alice.events>[0], n: number) => {
      for (const c of consoles)
        await waitFor(() => c.events(type).length >= n, { what: `${n} ${type} on a console` })
    }

    // Group management, with an unknown device id among the list.
    const created = data<GroupCreateResult>(
      await alice.request('createDeviceGroup', {
        groupName: 'upstairs',
        groupDesc: 'bedrooms',
        deviceList: ['d1', 'unknown-7'],
      }),
    )
    expect(created).toEqual({ groupId: expect.any(String), deviceSize: 1, failedDevices: ['unknown-7'] })
    const { groupId } = created
    expect(data(await bob.request('addDeviceGroup', { groupId, deviceList: ['d2', 'd3'] }))).toEqual({
      groupId,
      totalDeviceSize: 3,
      addedDeviceSize: 2,
      failedDevices: [],
    })
    expect(data(await alice.request('subtractDeviceGroup', { groupId, deviceList: ['d3'] }))).toEqual({
      groupId,
      totalDeviceSize: 2,
      removedDeviceSize: 1,
      failedDevices: [],
    })
    await both('group.subtracted', 1)
    for (const c of consoles) {
      expect(c.events('group.created')[0]?.detail).toMatchObject({ groupId, failedDevices: ['unknown-7'] })
      expect(c.events('group.added')[0]?.detail).toMatchObject({ groupId, addedDeviceSize: 2 })
    }

    // Each kind of send reaches exactly its devices.
    const sends: Array<[string, Record<string, unknown>, string[]]> = [
      ['sendUnicastMsg', { deviceId: 'd2', message: 'unicast to d2' }, ['d2']],
      [
        'sendMulticastMsg',
        { deviceList: ['d1', 'd3', 'unknown-8'], message: 'multicast to d1 d3' },
        ['d1', 'd3'],
      ],
      ['sendGroupMsg', { groupId, message: 'group upstairs' }, ['d1', 'd2']],
      ['sendBroadcastMsg', { message: 'broadcast' }, ['d1', 'd2', 'd3']],
    ]
    for (const [i, [action, body, expected]] of sends.entries()) {
      const c = consoles[i % 2]!
      const result = data<{ recipientSize: number; failedDevices: string[] }>(await c.request(action, body))
      expect(result.recipientSize).toBe(expected.length)
      if (action === 'sendMulticastMsg') expect(result.failedDevices).toEqual(['unknown-8'])
      await both('message.completed', i + 1)
    }
    const received = (d: (typeof devices)[number]) => d.inbox().map((e) => e.message)
    expect(received(d1)).toEqual(['multicast to d1 d3', 'group upstairs', 'broadcast'])
    expect(received(d2)).toEqual(['unicast to d2', 'group upstairs', 'broadcast'])
    expect(received(d3)).toEqual(['multicast to d1 d3', 'broadcast'])
    for (const c of consoles) {
      expect(c.events('message.sent').map((e) => e.detail.kind)).toEqual([
        'unicast',
        'multicast',
        'group',
        'broadcast',
      ])
      expect(c.events('message.completed').map((e) => e.detail.delivered)).toEqual([1, 2, 2, 3])
    }

    // An upstream message from a device appears on both consoles.
    await d3.client.publishAsync('devices/d3/outbox', JSON.stringify({ hello: 'from d3' }), { qos: 1 })
    await both('device.upstream', 1)
    for (const c of consoles)
      expect(c.events('device.upstream')[0]?.detail).toMatchObject({
        device: 'd3',
        sendTime: expect.any(Number),
        payload: { hello: 'from d3' },
      })

    // Deleting the group; a send to it afterwards is refused.
    expect(data(await bob.request('deleteDeviceGroup', { groupId }))).toEqual({ groupId })
    await both('group.deleted', 1)
    expect(await alice.request('sendGroupMsg', { groupId, message: 'gone' })).toMatchObject({
      ok: false,
      code: 40401,
    })
    // The REST API sees the same state the consoles changed.
    expect((await api(t, 'read').get('/groups')).body.items).toEqual([])
  }, 30_000)
})
