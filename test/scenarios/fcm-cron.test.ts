// Source system (b) end to end: the Django + APScheduler FCM pusher as
// examples/fcm-cron.toml, against a local peer speaking FCM HTTP v1 and its OAuth endpoint. Time
// is the injected clock; each run is the real path: scheduler → push action → outbox → v1 client.
import { afterAll, describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { getPushToken } from '../../src/bridges/fcm/tokens.ts'
import type { HubEvent } from '../../src/protocol.ts'
import { createToken } from '../../src/store/tokens.ts'
import { Answers, startFcmPeer } from '../bridges/fcm/peer.ts'
import { startTestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'

const example = parseToml(readFileSync(resolve(import.meta.dir, '../../examples/fcm-cron.toml'), 'utf8')) as {
  push: Record<string, unknown>
} & Record<string, unknown>

// Sunday 2025-06-01 23:45 in Seoul (UTC+9, no daylight saving time).
const kst = (iso: string) => Date.parse(`${iso}+09:00`)
const START = kst('2025-06-01T23:45:00')

const SILENT_IOS = (token: string) => ({
  message: {
    token,
    data: { type: 'saveLocation' },
    apns: {
      headers: { 'apns-push-type': 'background', 'apns-priority': '5' },
      payload: { aps: { 'content-available': 1 } },
    },
  },
})
const SILENT_ANDROID = (token: string) => ({
  message: { token, data: { type: 'saveLocation' }, android: { priority: 'normal' } },
})
const WEEKLY_IOS = (token: string) => ({
  message: {
    token,
    notification: { title: 'From Wolley 🗓', body: '일주일 동안의 기록을 확인해보세요!' },
    data: { type: 'pathDaily' },
    apns: {
      headers: { 'apns-push-type': 'alert', 'apns-priority': '10' },
      payload: { aps: { 'thread-id': 'pathDaily' } },
    },
  },
})
const WEEKLY_ANDROID = (token: string) => ({
  message: {
    token,
    notification: { title: 'From Wolley 🗓', body: '일주일 동안의 기록을 확인해보세요!' },
    data: { type: 'pathDaily' },
  },
})

describe('source (b): the FCM cron pusher', () => {
  const peer = startFcmPeer()
  afterAll(() => peer[Symbol.asyncDispose]())

  it('pushes silently every 30 minutes and the weekly notification on Monday 00:10 Seoul time, to the tokens registered at each run', async () => {
    const account = await peer.account('wolley-app')
    const { serviceAccountFile: _file, ...push } = example.push
    let now = START
    await using t = await startTestHub(
      { ...example, push: { ...push, serviceAccount: account.json, baseUrl: peer.url } },
      { now: () => now },
    )
    const api = { authorization: `Bearer ${createToken(t.hub.db, { name: 'app', scope: 'write' }).secret}` }
    const register = async (token: string, platform: string) => {
      const res = await fetch(`${t.url}/api/v1/push/tokens`, {
        method: 'POST',
        headers: { ...api, 'content-type': 'application/json' },
        body: JSON.stringify({ token, platform }),
      })
      expect(res.status).toBe(201)
    }
    const batches: HubEvent<'push.batch'>[] = []
    t.hub.bus.on('scenario', 'push.batch', (e) => batches.push(e))
    // Moves the clock to a run, fires it, and returns the v1 bodies it sent, by token.
    const runAt = async (at: number, id: string) => {
      const before = peer.requests.length
      const n = batches.length
      now = at
      expect(t.hub.scheduler.tick().fired).toEqual([{ id, at, late: false }])
      await t.hub.scheduler.idle()
      await waitFor(() => batches.length === n + 1)
      const sent = peer.requests.slice(before)
      expect(new Set(sent.map((r) => r.project))).toEqual(new Set(['wolley-app']))
      return Object.fromEntries(sent.map((r) => [r.body.message.token, r.body]))
    }

    await register('iphone-token-aaaa', 'ios')
    await register('galaxy-token-bbbb', 'android')
    expect(t.hub.scheduler.get('save-location')!.nextRunAt).toBe(kst('2025-06-02T00:00:00'))
    expect(t.hub.scheduler.get('path-daily')!.nextRunAt).toBe(kst('2025-06-02T00:10:00'))

    // 00:00 Monday: the half-hourly silent push to both phones.
    expect(await runAt(kst('2025-06-02T00:00:00'), 'save-location')).toEqual({
      'iphone-token-aaaa': SILENT_IOS('iphone-token-aaaa'),
      'galaxy-token-bbbb': SILENT_ANDROID('galaxy-token-bbbb'),
    })

    // A phone registers after the hub started; the Galaxy's app was uninstalled meanwhile.
    await register('pixel-token-cccc', 'android')
    peer.behave('galaxy-token-bbbb', () => Answers.unregistered())

    // 00:10 Monday: the weekly notification reaches the new phone too; FCM says the Galaxy is gone.
    expect(await runAt(kst('2025-06-02T00:10:00'), 'path-daily')).toEqual({
      'iphone-token-aaaa': WEEKLY_IOS('iphone-token-aaaa'),
      'galaxy-token-bbbb': WEEKLY_ANDROID('galaxy-token-bbbb'),
      'pixel-token-cccc': WEEKLY_ANDROID('pixel-token-cccc'),
    })
    expect(batches.at(-1)!.detail).toMatchObject({ size: 3, sent: 2, dead: 1, pruned: 1 })
    expect(getPushToken(t.hub.db, 'galaxy-token-bbbb')).toBeUndefined()

    // 00:30: the next silent push goes to the two phones left.
    expect(await runAt(kst('2025-06-02T00:30:00'), 'save-location')).toEqual({
      'iphone-token-aaaa': SILENT_IOS('iphone-token-aaaa'),
      'pixel-token-cccc': SILENT_ANDROID('pixel-token-cccc'),
    })
    expect(t.hub.scheduler.get('path-daily')!.nextRunAt).toBe(kst('2025-06-09T00:10:00'))
    expect(getPushToken(t.hub.db, 'pixel-token-cccc')!.lastSuccessAt).toBe(kst('2025-06-02T00:30:00'))
    const runs = t.hub.scheduler.runs('save-location', 10)
    expect(runs.map((r) => r.status)).toEqual(['ok', 'ok'])
  })
})
