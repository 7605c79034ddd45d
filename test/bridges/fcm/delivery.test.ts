import { afterAll, describe, expect, it } from 'bun:test'
import { getPushToken, registerPushToken } from '../../../src/bridges/fcm/tokens.ts'
import { queryEvents } from '../../../src/store/events.ts'
import { waitFor } from '../../helpers/wait.ts'
import { Answers, startFcmPeer } from './peer.ts'
import { pushHub } from './support.ts'

const seed = (db: Parameters<typeof registerPushToken>[0], tokens: string[], labels: string[] = []) => {
  for (const [i, token] of tokens.entries())
    registerPushToken(db, { token, platform: i % 2 ? 'android' : 'ios', labels }, Date.now())
}
const range = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`)

describe('push delivery through the outbox', () => {
  const peer = startFcmPeer()
  afterAll(() => peer[Symbol.asyncDispose]())

  it('sends one v1 request per token in batches of at most 500, at most `concurrency` at once, with a result event per token', async () => {
    await using t = await pushHub(peer, { concurrency: 5 })
    peer.latencyMs = 2
    const tokens = range('bulk', 1200)
    seed(t.hub.db, tokens)
    const results = t.collect('push.result')
    const batches = t.collect('push.batch')
    const result = await t.push({ silent: true })
    expect(result).toMatchObject({ ok: true, detail: { target: 'all', tokens: 1200, batches: 3 } })
    await waitFor(() => batches.length === 3, { timeoutMs: 30_000 })
    peer.latencyMs = 0
    expect(batches.map((b) => b.detail.size).sort()).toEqual([200, 500, 500])
    expect(batches.every((b) => b.detail.sent === b.detail.size && b.detail.pruned === 0)).toBe(true)
    expect(peer.requests.length).toBe(1200)
    expect(new Set(peer.requests.map((r) => r.body.message.token)).size).toBe(1200)
    expect(peer.maxInFlight).toBeLessThanOrEqual(5)
    expect(peer.maxInFlight).toBeGreaterThan(1)
    expect(results.length).toBe(1200)
    expect(results[0]!.detail).toEqual({
      target: 'all',
      batch: expect.any(String),
      token: expect.stringMatching(/^[0-9a-f]{16}$/),
      platform: expect.stringMatching(/^(ios|android)$/),
      status: 'sent',
      messageId: expect.stringMatching(/^projects\/hearth-test\/messages\/\d+$/),
    })
    expect(getPushToken(t.hub.db, tokens[7]!)!.lastSuccessAt).toBeNumber()
    // Per-token results reach live consoles but are not stored; the batch summaries are.
    expect(queryEvents(t.hub.db, { types: ['push.result'] }).items).toEqual([])
    expect(queryEvents(t.hub.db, { types: ['push.batch'] }).items.length).toBe(3)
    expect(t.hub.db.query('SELECT count(*) AS n FROM push_progress').get()).toEqual({ n: 0 })

    // One signed JWT exchanged once for every send.
    expect(peer.exchanges).toEqual([
      {
        header: { alg: 'RS256', typ: 'JWT', kid: 'test-key-1' },
        claims: {
          iss: 'hearth@hearth-test.iam.gserviceaccount.com',
          scope: 'https://www.googleapis.com/auth/firebase.messaging',
          aud: peer.tokenUri,
          iat: expect.any(Number),
          exp: expect.any(Number),
        },
      },
    ])
    expect(new Set(peer.requests.map((r) => r.authorization))).toEqual(new Set(['Bearer ya29.test-1']))
  })

  it('fetches a new access token once when FCM answers 401 to the cached one', async () => {
    await using t = await pushHub(peer)
    await t.register({ token: 'auth-refresh', platform: 'ios' })
    const batches = t.collect('push.batch')
    await t.push({ silent: true })
    await waitFor(() => batches.length === 1)
    const exchanged = peer.exchanges.length
    peer.revokeAccessTokens()
    await t.push({ silent: true })
    await waitFor(() => batches.length === 2)
    expect(peer.exchanges.length).toBe(exchanged + 1)
    expect(batches.map((b) => b.detail.sent)).toEqual([1, 1])
  })

  it('prunes UNREGISTERED tokens and INVALID_ARGUMENT ones that name the token, and keeps every other failure', async () => {
    await using t = await pushHub(peer)
    peer.behave('prune-unregistered', () => Answers.unregistered())
    peer.behave('prune-invalid-token', () => Answers.invalidToken())
    peer.behave('keep-bad-payload', () => Answers.invalidPayload())
    peer.behave('keep-mismatch', () => Answers.senderMismatch())
    for (const token of [
      'prune-unregistered',
      'prune-invalid-token',
      'keep-bad-payload',
      'keep-mismatch',
      'keep-good',
    ])
      await t.register({ token, platform: 'android' })
    const removed = t.collect('push.token_removed')
    const batches = t.collect('push.batch')
    const results = t.collect('push.result')
    await t.push({ title: 'hello' })
    await waitFor(() => batches.length === 1)
    expect(batches[0]!.detail).toMatchObject({ size: 5, sent: 1, dead: 2, failed: 2, pruned: 2 })
    expect(removed.map((e) => e.detail).sort((a, b) => a.reason.localeCompare(b.reason))).toEqual([
      { id: idOf('prune-invalid-token'), reason: 'invalid' },
      { id: idOf('prune-unregistered'), reason: 'unregistered' },
    ])
    expect(getPushToken(t.hub.db, 'prune-unregistered')).toBeUndefined()
    expect(getPushToken(t.hub.db, 'keep-good')!.failures).toBe(0)
    expect(getPushToken(t.hub.db, 'keep-mismatch')).toMatchObject({
      failures: 1,
      lastError: 'SENDER_ID_MISMATCH: SenderId mismatch',
    })
    expect(results.map((r) => [r.detail.status, r.detail.errorCode ?? null]).sort()).toEqual([
      ['dead', 'INVALID_ARGUMENT'],
      ['dead', 'UNREGISTERED'],
      ['failed', 'INVALID_ARGUMENT'],
      ['failed', 'SENDER_ID_MISMATCH'],
      ['sent', null],
    ])

    // A batch every token refused (the message itself is wrong) becomes a dead letter to replay.
    const dead = t.collect('delivery.dead')
    await t.push({ token: 'keep-bad-payload', title: 'hello' })
    await waitFor(() => dead.length === 1)
    expect(dead[0]!.detail).toMatchObject({
      kind: 'fcm',
      reason: expect.stringMatching(/^bad request: INVALID_ARGUMENT/),
    })
    expect(getPushToken(t.hub.db, 'keep-bad-payload')!.failures).toBe(2)
  })

  it('never prunes on a network error: the batch stays queued and is tried again', async () => {
    // A peer that accepts connections and closes them at once.
    const dropper = Bun.listen({
      hostname: '127.0.0.1',
      port: 0,
      socket: {
        open: (s) => void s.end(),
        data: () => {},
      },
    })
    try {
      await using t = await pushHub(peer, { baseUrl: `http://127.0.0.1:${dropper.port}` })
      await t.register({ token: 'network-1', platform: 'ios' })
      await t.register({ token: 'network-2', platform: 'android' })
      const failed = t.collect('delivery.failed')
      const results = t.collect('push.result')
      await t.push({ silent: true })
      await waitFor(() => failed.length >= 3)
      expect(failed.every((f) => f.detail.kind === 'fcm' && f.detail.retryInMs !== null)).toBe(true)
      expect(new Set(results.map((r) => r.detail.status))).toEqual(new Set(['retry']))
      expect(getPushToken(t.hub.db, 'network-1')).toMatchObject({ failures: 0 })
      expect(getPushToken(t.hub.db, 'network-2')).toBeDefined()
      await t.stop()
    } finally {
      dropper.stop(true)
    }
  })

  it("honours FCM's Retry-After on 429 and sends again only the tokens that did not pass", async () => {
    await using t = await pushHub(peer)
    peer.behave('quota-slow', (_r, nth) =>
      nth === 1 ? Answers.quota(1) : Response.json({ name: 'projects/p/messages/9' }),
    )
    await t.register({ token: 'quota-slow', platform: 'ios' })
    await t.register({ token: 'quota-fast', platform: 'ios' })
    const failed = t.collect('delivery.failed')
    const batches = t.collect('push.batch')
    await t.push({ silent: true })
    await waitFor(() => batches.length === 1)
    expect(failed.map((f) => f.detail)).toEqual([
      expect.objectContaining({
        kind: 'fcm',
        status: 429,
        retryInMs: 1000,
        error: expect.stringContaining('QUOTA_EXCEEDED'),
      }),
    ])
    expect(peer.to('quota-fast').length).toBe(1)
    const [first, second] = peer.to('quota-slow')
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(990)
    expect(batches[0]!.detail).toMatchObject({ size: 2, sent: 2, attempts: 2 })
  })

  it('pauses the target, prunes nothing and alerts when more than half of a batch of 20 or more comes back dead', async () => {
    await using t = await pushHub(peer)
    const mass = range('mass', 25)
    const small = range('small', 10)
    for (const token of [...mass.slice(0, 13), ...small]) peer.behave(token, () => Answers.unregistered())
    seed(t.hub.db, mass, ['mass'])
    seed(t.hub.db, small, ['small'])
    const paused = t.collect('push.paused')
    const alerts = t.collect('alert')
    const batches = t.collect('push.batch')
    await t.push({ label: 'mass', silent: true })
    await waitFor(() => batches.length === 1)
    expect(batches[0]!.detail).toMatchObject({
      target: 'label:mass',
      size: 25,
      sent: 12,
      dead: 13,
      pruned: 0,
    })
    expect(mass.every((tok) => getPushToken(t.hub.db, tok))).toBe(true)
    expect(paused.map((p) => p.detail)).toEqual([
      {
        target: 'label:mass',
        batch: expect.any(String),
        size: 25,
        dead: 13,
        reason: '13 of 25 tokens in one batch came back dead; nothing was pruned',
      },
    ])
    expect(alerts.map((a) => a.detail)).toEqual([
      {
        source: 'push',
        severity: 'critical',
        message: expect.stringContaining('push target label:mass paused'),
      },
    ])
    const pauses = await (await fetch(`${t.url}/api/v1/push/pauses`, { headers: t.bearer })).json()
    expect(pauses).toEqual({
      items: [{ target: 'label:mass', reason: expect.any(String), pausedAt: expect.any(Number) }],
    })

    // While paused the target refuses pushes; other targets are not affected.
    expect(await t.push({ label: 'mass', silent: true })).toMatchObject({
      ok: false,
      error: expect.stringContaining('paused'),
    })
    const refused = await fetch(`${t.url}/api/v1/push/send`, {
      method: 'POST',
      headers: t.bearer,
      body: JSON.stringify({ label: 'mass', silent: true }),
    })
    expect(await refused.json()).toMatchObject({ code: 40901 })

    // Below 20 tokens a batch is too small to judge: its dead tokens are pruned.
    await t.push({ label: 'small', silent: true })
    await waitFor(() => batches.length === 2)
    expect(batches[1]!.detail).toMatchObject({ target: 'label:small', size: 10, dead: 10, pruned: 10 })
    expect(small.some((tok) => getPushToken(t.hub.db, tok))).toBe(false)

    const resumed = t.collect('push.resumed')
    const res = await fetch(`${t.url}/api/v1/push/pauses/label:mass`, { method: 'DELETE', headers: t.bearer })
    expect(res.status).toBe(204)
    expect(resumed.map((e) => e.detail)).toEqual([{ target: 'label:mass' }])
    expect(await t.push({ label: 'mass', silent: true })).toMatchObject({ ok: true })
  })
})

function idOf(token: string): string {
  return new Bun.CryptoHasher('sha256').update(token).digest('hex').slice(0, 16)
}
