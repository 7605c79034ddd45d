// GET /api/v1/bridges against real local peers: Slack, webhook receivers, FCM and a polled API.
import { afterAll, describe, expect, it } from 'bun:test'
import { actionSchema } from '../../src/catalog/actions.ts'
import type { BridgeStatusView } from '../../src/protocol.ts'
import { createToken } from '../../src/store/tokens.ts'
import { startFcmPeer } from '../bridges/fcm/peer.ts'
import { pushHub } from '../bridges/fcm/support.ts'
import { startRtdbPeer } from '../bridges/firebase/rtdb-peer.ts'
import { SlackAnswers, startSlackPeer } from '../bridges/slack/peer.ts'
import { startReceiver } from '../bridges/webhook/receiver.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'

const readHeader = (t: TestHub) => ({
  authorization: `Bearer ${createToken(t.hub.db, { name: 'bridges-test', scope: 'read' }).secret}`,
})

/** The bridges as the API lists them, by id. */
async function bridges(t: TestHub, auth: Record<string, string>): Promise<Record<string, BridgeStatusView>> {
  const res = await fetch(`${t.url}/api/v1/bridges`, { headers: auth })
  expect(res.status).toBe(200)
  const body = (await res.json()) as { items: BridgeStatusView[]; checkedAt: number }
  return Object.fromEntries(body.items.map((b) => [b.id, b]))
}

const quiet = { pending: 0, dead: 0, lastSuccessAt: null, lastErrorAt: null, lastError: null }

describe('GET /api/v1/bridges', () => {
  const slack = startSlackPeer()
  const receiver = startReceiver()
  const fcm = startFcmPeer()
  afterAll(async () => {
    await slack[Symbol.asyncDispose]()
    await receiver[Symbol.asyncDispose]()
    await fcm[Symbol.asyncDispose]()
  })

  it('shows a Slack destination that answered 404 as down and a healthy one as ok, and unconfigured bridges as disabled', async () => {
    slack.behaveWebhook('gone', () => SlackAnswers.noService())
    await using t = await startTestHub({
      slack: {
        webhookUrl: slack.webhook('healthy'),
        destinations: [{ name: 'ops', webhookUrl: slack.webhook('gone') }],
      },
    })
    const auth = readHeader(t)
    for (const target of ['default', 'ops'])
      await t.hub.actions.run(actionSchema.parse({ type: 'slack', target, text: 'door opened' }), {
        source: 'test',
      })
    const seen = await waitFor(
      async () => {
        const b = await bridges(t, auth)
        return b['slack:ops']?.state === 'down' && b['slack:default']?.lastSuccessAt && b
      },
      { what: 'slack:ops down and slack:default delivered' },
    )
    expect(seen).toEqual({
      'fcm:push': {
        id: 'fcm:push',
        kind: 'fcm',
        name: 'push',
        state: 'disabled',
        detail: 'push.serviceAccount is not set',
        ...quiet,
      },
      'slack:default': {
        id: 'slack:default',
        kind: 'slack',
        name: 'default',
        state: 'ok',
        detail: null,
        ...quiet,
        lastSuccessAt: expect.any(Number),
      },
      'slack:ops': {
        id: 'slack:ops',
        kind: 'slack',
        name: 'ops',
        state: 'down',
        detail: 'Slack says it is gone: HTTP 404: no_service',
        pending: 0,
        dead: 1,
        lastSuccessAt: null,
        lastErrorAt: expect.any(Number),
        lastError: 'target refused: HTTP 404: no_service',
      },
      'rtdb:rtdb': {
        id: 'rtdb:rtdb',
        kind: 'rtdb',
        name: 'rtdb',
        state: 'disabled',
        detail: 'firebase.rtdb.url is not set',
        ...quiet,
      },
      'firestore:firestore': {
        id: 'firestore:firestore',
        kind: 'firestore',
        name: 'firestore',
        state: 'disabled',
        detail: 'no Firebase project (firebase.serviceAccount or firebase.projectId)',
        ...quiet,
      },
    })
    expect(slack.toWebhook('healthy').length).toBe(1)
    expect(slack.toWebhook('gone').length).toBe(1)
  })

  it('shows a webhook target whose circuit opened as down, a delivering one as ok and a disabled one as disabled', async () => {
    receiver.behave('/broken', () => new Response('maintenance', { status: 500 }))
    await using t = await startTestHub({
      outbox: { backoffBase: 10, backoffMax: 20, breakerThreshold: 2, breakerCooldown: '1h' },
      webhooks: [
        { name: 'good', filter: 'good/#', url: receiver.url('/good') },
        { name: 'broken', filter: 'broken/#', url: receiver.url('/broken') },
        { name: 'off', filter: 'off/#', url: receiver.url('/off'), enabled: false },
      ],
    })
    const write = {
      authorization: `Bearer ${createToken(t.hub.db, { name: 'w', scope: 'write' }).secret}`,
      'content-type': 'application/json',
    }
    for (const topic of ['good/1', 'broken/1']) {
      const res = await fetch(`${t.url}/api/v1/publish`, {
        method: 'POST',
        headers: write,
        body: JSON.stringify({ topic, payload: 'x', qos: 1 }),
      })
      expect(res.status).toBeLessThan(300)
    }
    const auth = readHeader(t)
    const seen = await waitFor(
      async () => {
        const b = await bridges(t, auth)
        return b['webhook:broken']?.state === 'down' && b['webhook:good']?.lastSuccessAt && b
      },
      { what: 'the broken target down' },
    )
    expect([seen['webhook:good'], seen['webhook:broken'], seen['webhook:off']]).toEqual([
      {
        id: 'webhook:good',
        kind: 'webhook',
        name: 'good',
        state: 'ok',
        detail: null,
        ...quiet,
        lastSuccessAt: expect.any(Number),
      },
      {
        id: 'webhook:broken',
        kind: 'webhook',
        name: 'broken',
        state: 'down',
        detail: 'circuit open after 2 failed attempts',
        pending: 1,
        dead: 0,
        lastSuccessAt: null,
        lastErrorAt: expect.any(Number),
        lastError: 'HTTP 500: maintenance',
      },
      {
        id: 'webhook:off',
        kind: 'webhook',
        name: 'off',
        state: 'disabled',
        detail: 'the target is disabled',
        ...quiet,
      },
    ])

    // One bridge by its id; an unknown id is the catalog's 404, and the list needs a login or token.
    const one = await fetch(`${t.url}/api/v1/bridges/webhook:broken`, { headers: auth })
    expect(await one.json()).toMatchObject({ id: 'webhook:broken', state: 'down' })
    const missing = await fetch(`${t.url}/api/v1/bridges/webhook:nope`, { headers: auth })
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ code: 40401 })
    const anonymous = await fetch(`${t.url}/api/v1/bridges`)
    expect(anonymous.status).toBe(401)
    expect(await anonymous.json()).toMatchObject({ code: 40101 })
  })

  it('shows push as ok with its token count and last delivery once FCM accepted a batch', async () => {
    await using t = await pushHub(fcm)
    await t.register({ token: 'bridges-phone-1', platform: 'android' })
    const batches = t.collect('push.batch')
    await t.push({ title: 'hello' })
    await waitFor(() => batches.length === 1)
    const seen = await waitFor(async () => {
      const b = (await bridges(t, t.bearer))['fcm:push']
      return b?.lastSuccessAt && b
    })
    expect(seen).toEqual({
      id: 'fcm:push',
      kind: 'fcm',
      name: 'push',
      state: 'ok',
      detail: '1 registered token',
      ...quiet,
      lastSuccessAt: expect.any(Number),
    })
  })

  it('shows the Realtime Database mirror ok once a write landed and its listener down while streams are refused', async () => {
    await using peer = startRtdbPeer()
    peer.refuseStreams = true
    await using t = await startTestHub(
      {
        firebase: {
          rtdb: {
            url: peer.url,
            mirror: [{ event: 'alert', path: 'hub/lastAlert', value: 'detail.message' }],
            listen: [{ path: 'smarthome' }],
          },
        },
      },
      { backoff: { initialMs: 10, maxMs: 2000, stableMs: 60_000 } },
    )
    t.hub.bus.emit('alert', { source: 'test', severity: 'info', message: 'hello database' })
    await waitFor(() => peer.get('hub/lastAlert') === 'hello database', { what: 'the mirrored write' })
    const auth = readHeader(t)
    const seen = await waitFor(async () => {
      const b = await bridges(t, auth)
      return b['rtdb:mirror']?.lastSuccessAt && b['rtdb:listen']?.state === 'down' && b
    })
    expect([seen['rtdb:mirror'], seen['rtdb:listen'], seen['rtdb:rtdb']]).toEqual([
      {
        id: 'rtdb:mirror',
        kind: 'rtdb',
        name: 'mirror',
        state: 'ok',
        detail: null,
        ...quiet,
        lastSuccessAt: expect.any(Number),
      },
      {
        id: 'rtdb:listen',
        kind: 'rtdb',
        name: 'listen',
        state: 'down',
        detail: expect.stringMatching(/^cannot reach Firebase: .*HTTP 503/),
        ...quiet,
        lastErrorAt: expect.any(Number),
        lastError: expect.stringContaining('HTTP 503'),
      },
      undefined,
    ])
  })

  it('shows a poller down after a failed poll and ok again after the next one succeeds', async () => {
    const T0 = Date.parse('2025-01-06T00:00:00Z')
    let now = T0
    let answer = () => new Response('maintenance', { status: 503 })
    receiver.behave('/weather', () => answer())
    await using t = await startTestHub(
      {
        schedules: [
          {
            id: 'weather',
            kind: 'interval',
            every: '900s',
            actions: [{ type: 'poll', url: receiver.url('/weather') }],
          },
        ],
      },
      { now: () => now },
    )
    const auth = readHeader(t)
    expect((await bridges(t, auth))['poller:weather']).toEqual({
      id: 'poller:weather',
      kind: 'poller',
      name: 'weather',
      state: 'ok',
      detail: 'not run yet',
      ...quiet,
    })

    now = T0 + 900_000
    t.hub.scheduler.tick()
    await t.hub.scheduler.idle()
    const error = `GET ${receiver.url('/weather')}: HTTP 503`
    expect((await bridges(t, auth))['poller:weather']).toEqual({
      id: 'poller:weather',
      kind: 'poller',
      name: 'weather',
      state: 'down',
      detail: `last poll failed: ${error}`,
      ...quiet,
      lastErrorAt: T0 + 900_000,
      lastError: error,
    })

    answer = () => Response.json({ temp: 3 })
    now = T0 + 1_800_000
    t.hub.scheduler.tick()
    await t.hub.scheduler.idle()
    expect((await bridges(t, auth))['poller:weather']).toMatchObject({
      state: 'ok',
      lastSuccessAt: T0 + 1_800_000,
      lastErrorAt: T0 + 900_000,
    })
  })
})
