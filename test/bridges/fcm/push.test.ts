import { afterAll, describe, expect, it } from 'bun:test'
import { getPushToken } from '../../../src/bridges/fcm/tokens.ts'
import { createGroup } from '../../../src/devices/groups.ts'
import { createDevice } from '../../../src/devices/registry.ts'
import { waitFor } from '../../helpers/wait.ts'
import { startFcmPeer } from './peer.ts'
import { pushHub } from './support.ts'

describe('push templates: the exact FCM HTTP v1 bodies', () => {
  const peer = startFcmPeer()
  afterAll(() => peer[Symbol.asyncDispose]())

  it('sends a silent push as an iOS background push (priority 5, aps with only content-available) and Android data at normal priority', async () => {
    await using t = await pushHub(peer)
    await t.register({ token: 'tmpl-silent-ios', platform: 'ios' })
    await t.register({ token: 'tmpl-silent-android', platform: 'android' })
    await t.register({ token: 'tmpl-silent-web', platform: 'web' })
    const batches = t.collect('push.batch')
    // Title, body and thread-id mean nothing to a background push: left out, so `aps` stays pure.
    await t.push({ silent: true, title: 'ignored', threadId: 'saveLocation', data: { type: 'saveLocation' } })
    await waitFor(() => batches.length === 1)
    expect(peer.to('tmpl-silent-ios').map((r) => r.body)).toEqual([
      {
        message: {
          token: 'tmpl-silent-ios',
          data: { type: 'saveLocation' },
          apns: {
            headers: { 'apns-push-type': 'background', 'apns-priority': '5' },
            payload: { aps: { 'content-available': 1 } },
          },
        },
      },
    ])
    expect(peer.to('tmpl-silent-android').map((r) => r.body)).toEqual([
      {
        message: {
          token: 'tmpl-silent-android',
          data: { type: 'saveLocation' },
          android: { priority: 'normal' },
        },
      },
    ])
    expect(peer.to('tmpl-silent-web').map((r) => r.body)).toEqual([
      {
        message: {
          token: 'tmpl-silent-web',
          data: { type: 'saveLocation' },
          webpush: { headers: { Urgency: 'normal' } },
        },
      },
    ])
    expect(new Set(peer.requests.map((r) => r.project))).toEqual(new Set(['hearth-test']))
  })

  it('sends a notification with title, body, thread-id, collapse key, Android channel and tag, and data filled from the run', async () => {
    await using t = await pushHub(peer)
    await t.register({ token: 'tmpl-note-ios', platform: 'ios' })
    await t.register({ token: 'tmpl-note-android', platform: 'android' })
    const batches = t.collect('push.batch')
    const action = {
      title: 'Door {{door}}',
      body: 'opened at {{time}}',
      threadId: 'doors',
      collapseKey: 'door-state',
      channel: 'security',
      tag: 'front-door',
      data: { door: '{{door}}' },
    }
    const result = await t.hub.actions.run(
      { type: 'push', silent: false, ...action } as Parameters<typeof t.hub.actions.run>[0],
      { source: 'rule:door', data: { door: 'front', time: '21:04' } },
    )
    expect(result).toMatchObject({ ok: true, detail: { target: 'all', tokens: 2, batches: 1 } })
    await waitFor(() => batches.length === 1)
    expect(peer.to('tmpl-note-ios')[0]!.body).toEqual({
      message: {
        token: 'tmpl-note-ios',
        notification: { title: 'Door front', body: 'opened at 21:04' },
        data: { door: 'front' },
        apns: {
          headers: { 'apns-push-type': 'alert', 'apns-priority': '10', 'apns-collapse-id': 'door-state' },
          payload: { aps: { 'thread-id': 'doors' } },
        },
      },
    })
    expect(peer.to('tmpl-note-android')[0]!.body).toEqual({
      message: {
        token: 'tmpl-note-android',
        notification: { title: 'Door front', body: 'opened at 21:04' },
        data: { door: 'front' },
        android: { collapse_key: 'door-state', notification: { channel_id: 'security', tag: 'front-door' } },
      },
    })
  })

  it('refuses a notification without a title or body, and two targets at once', async () => {
    await using t = await pushHub(peer)
    const res = await fetch(`${t.url}/api/v1/push/send`, { method: 'POST', headers: t.bearer, body: '{}' })
    expect(await res.json()).toMatchObject({ code: 40002 })
    const both = await fetch(`${t.url}/api/v1/push/send`, {
      method: 'POST',
      headers: t.bearer,
      body: JSON.stringify({ label: 'a', device: 'b', silent: true }),
    })
    expect(await both.json()).toMatchObject({ code: 40002 })
  })
})

describe('push targets: one token, a device, a label, a group, all', () => {
  const peer = startFcmPeer()
  afterAll(() => peer[Symbol.asyncDispose]())

  it('addresses exactly the tokens each target means', async () => {
    await using t = await pushHub(peer)
    await createDevice(t.hub.db, { id: 'kitchen-tablet' })
    await createDevice(t.hub.db, { id: 'kims-phone' })
    const group = createGroup(t.hub.db, { name: 'family', devices: ['kims-phone'] })
    await t.register({
      token: 'target-tablet',
      platform: 'android',
      device: 'kitchen-tablet',
      labels: ['home'],
    })
    await t.register({ token: 'target-kim-1', platform: 'ios', device: 'kims-phone' })
    await t.register({ token: 'target-kim-2', platform: 'android', device: 'kims-phone', labels: ['home'] })
    await t.register({ token: 'target-loose', platform: 'web' })
    const batches = t.collect('push.batch')
    const sentBy = async (target: Record<string, unknown>) => {
      const before = peer.requests.length
      const n = batches.length
      const result = await t.push({ silent: true, ...target })
      expect(result.ok).toBe(true)
      await waitFor(() => batches.length === n + 1)
      return {
        target: batches.at(-1)!.detail.target,
        tokens: peer.requests
          .slice(before)
          .map((r) => r.body.message.token)
          .sort(),
      }
    }
    expect(await sentBy({ token: 'target-kim-1' })).toEqual({
      target: `token:${getPushToken(t.hub.db, 'target-kim-1')!.id}`,
      tokens: ['target-kim-1'],
    })
    expect(await sentBy({ device: 'kims-phone' })).toEqual({
      target: 'device:kims-phone',
      tokens: ['target-kim-1', 'target-kim-2'],
    })
    expect(await sentBy({ label: 'home' })).toEqual({
      target: 'label:home',
      tokens: ['target-kim-2', 'target-tablet'],
    })
    expect(await sentBy({ group: group.groupId })).toEqual({
      target: `group:${group.groupId}`,
      tokens: ['target-kim-1', 'target-kim-2'],
    })
    expect(await sentBy({})).toEqual({
      target: 'all',
      tokens: ['target-kim-1', 'target-kim-2', 'target-loose', 'target-tablet'],
    })
    // A token given by hand that is not registered gets every platform's block.
    const before = peer.requests.length
    await t.push({ tokens: ['target-unknown'], silent: true })
    await waitFor(() => peer.requests.length === before + 1)
    expect(Object.keys(peer.requests.at(-1)!.body.message).sort()).toEqual(['android', 'apns', 'token'])
    const unknownGroup = await t.push({ group: 'grp-missing', silent: true })
    expect(unknownGroup).toMatchObject({ ok: false, error: 'no device group grp-missing' })
  })
})
