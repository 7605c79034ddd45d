import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { verifyDelivery } from '../../src/hooks/verify.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { opensslHmac, post, subscriber } from './support.ts'

// https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
const GITHUB_SECRET = "It's a Secret to Everybody"
const GITHUB_PAYLOAD = 'Hello, World!'
const GITHUB_SIGNATURE = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17'

const SLACK_SECRET = '8f742231b10e8888abcd99yyyzzz85a5'
const STRIPE_SECRET = 'whsec_test_secret_for_hearth'
const HMAC_SECRET = 'hmac-secret-for-hearth-tests'
const TOKEN = 'token-for-hearth-tests'

const unix = (ms = Date.now()) => String(Math.floor(ms / 1000))

describe('inbound webhook verification presets', () => {
  let t: TestHub
  beforeAll(async () => {
    t = await startTestHub({
      mqtt: { allowAnonymous: true, anonymousAcl: [{ pattern: '#', access: 'readwrite' }] },
      hooks: [
        { name: 'gh', preset: 'github', secret: GITHUB_SECRET, topic: 'github/{header.x-github-event}' },
        { name: 'slack', preset: 'slack', secret: SLACK_SECRET, payload: 'field', field: 'event.text' },
        { name: 'stripe', preset: 'stripe', secret: STRIPE_SECRET, topic: 'stripe/{body.type}' },
        {
          name: 'signed',
          preset: 'hmac-sha256',
          secret: HMAC_SECRET,
          header: 'X-Sig',
          timestampHeader: 'X-Ts',
        },
        { name: 'signed64', preset: 'hmac-sha256', secret: HMAC_SECRET, encoding: 'base64' },
        { name: 'tok', preset: 'token', secret: TOKEN, tokenParam: 'token' },
      ],
    })
  })
  afterAll(() => t.stop())

  const url = (name: string, query = '') => `${t.url}/hooks/${name}${query}`

  describe('github', () => {
    it("accepts GitHub's documented example, which openssl computes the same", async () => {
      expect(`sha256=${opensslHmac(GITHUB_SECRET, GITHUB_PAYLOAD)}`).toBe(GITHUB_SIGNATURE)
      const verdict = verifyDelivery(
        {
          name: 'gh',
          preset: 'github',
          secret: GITHUB_SECRET,
          encoding: 'hex',
          topic: 't',
          payload: 'raw',
          qos: 0,
          retain: false,
          source: 'config',
        },
        {
          headers: new Headers({ 'X-Hub-Signature-256': GITHUB_SIGNATURE }),
          query: new URLSearchParams(),
          body: new TextEncoder().encode(GITHUB_PAYLOAD),
        },
        Date.now(),
      )
      expect(verdict.ok).toBe(true)

      await using sub = await subscriber(t.mqttUrl, 'github/#')
      const res = await post(url('gh'), GITHUB_PAYLOAD, {
        'content-type': 'text/plain',
        'x-hub-signature-256': GITHUB_SIGNATURE,
        'x-github-event': 'ping',
      })
      expect(await res.json()).toEqual({ status: 'ok' })
      const [msg] = await sub.next()
      expect({ topic: msg!.topic, payload: msg!.payload.toString() }).toEqual({
        topic: 'github/ping',
        payload: GITHUB_PAYLOAD,
      })
    })

    it('accepts a JSON delivery signed by openssl and refuses a wrong or missing signature', async () => {
      const body = JSON.stringify({ action: 'opened', number: 7 })
      const good = `sha256=${opensslHmac(GITHUB_SECRET, body)}`
      const headers = { 'content-type': 'application/json', 'x-github-event': 'issues' }
      await using sub = await subscriber(t.mqttUrl, 'github/issues')
      const ok = await post(url('gh'), body, { ...headers, 'x-hub-signature-256': good })
      expect(ok.status).toBe(200)
      expect((await sub.next())[0]!.payload.toString()).toBe(body)

      const wrong = await post(url('gh'), body, {
        ...headers,
        'x-hub-signature-256': `sha256=${opensslHmac('another secret', body)}`,
      })
      expect([wrong.status, ((await wrong.json()) as { code: number }).code]).toEqual([401, 40102])
      const missing = await post(url('gh'), body, headers)
      expect([missing.status, ((await missing.json()) as { code: number }).code]).toEqual([401, 40102])
      const tampered = await post(url('gh'), body.replace('7', '8'), {
        ...headers,
        'x-hub-signature-256': good,
      })
      expect(tampered.status).toBe(401)
    })

    it('refuses a replayed X-GitHub-Delivery and publishes it once', async () => {
      const body = JSON.stringify({ zen: 'Keep it logically awesome.' })
      const headers = {
        'content-type': 'application/json',
        'x-github-event': 'replayed',
        'x-github-delivery': crypto.randomUUID(),
        'x-hub-signature-256': `sha256=${opensslHmac(GITHUB_SECRET, body)}`,
      }
      await using sub = await subscriber(t.mqttUrl, 'github/replayed')
      expect((await post(url('gh'), body, headers)).status).toBe(200)
      const again = await post(url('gh'), body, headers)
      expect([again.status, ((await again.json()) as { code: number }).code]).toEqual([409, 40902])
      await sub.next()
      // A marker published after the replay arrives after anything the replay could have published.
      await t.hub.broker.publish({ topic: 'github/replayed', payload: 'marker' })
      const msgs = await sub.next(2)
      expect(msgs.map((m) => m.payload.toString())).toEqual([body, 'marker'])
    })
  })

  describe('slack', () => {
    const sign = (ts: string, body: string) => `v0=${opensslHmac(SLACK_SECRET, `v0:${ts}:${body}`)}`

    it('accepts a v0 signature over v0:timestamp:body and publishes the mapped field', async () => {
      const body = JSON.stringify({ type: 'event_callback', event_id: 'Ev1', event: { text: 'lights on' } })
      const ts = unix()
      await using sub = await subscriber(t.mqttUrl, 'hooks/slack')
      const res = await post(url('slack'), body, {
        'content-type': 'application/json',
        'x-slack-request-timestamp': ts,
        'x-slack-signature': sign(ts, body),
      })
      expect(res.status).toBe(200)
      expect((await sub.next())[0]!.payload.toString()).toBe('lights on')
    })

    it('refuses a correctly signed request whose timestamp is ten minutes old (40103)', async () => {
      const body = JSON.stringify({ type: 'event_callback', event: { text: 'old' } })
      const ts = unix(Date.now() - 10 * 60_000)
      const res = await post(url('slack'), body, {
        'content-type': 'application/json',
        'x-slack-request-timestamp': ts,
        'x-slack-signature': sign(ts, body),
      })
      expect([res.status, ((await res.json()) as { code: number }).code]).toEqual([401, 40103])
    })

    it("answers Slack's url_verification challenge", async () => {
      const body = JSON.stringify({ type: 'url_verification', challenge: 'c-123' })
      const ts = unix()
      const res = await post(url('slack'), body, {
        'content-type': 'application/json',
        'x-slack-request-timestamp': ts,
        'x-slack-signature': sign(ts, body),
      })
      expect(await res.json()).toEqual({ challenge: 'c-123' })
    })
  })

  describe('stripe', () => {
    const header = (t0: string, body: string, extra = '') =>
      `t=${t0},v1=${opensslHmac(STRIPE_SECRET, `${t0}.${body}`)}${extra}`

    it('accepts Stripe-Signature t=…,v1=… over "t.body", among other v1 values', async () => {
      const body = JSON.stringify({ id: `evt_${crypto.randomUUID()}`, type: 'invoice.paid' })
      const ts = unix()
      await using sub = await subscriber(t.mqttUrl, 'stripe/+')
      const res = await post(url('stripe'), body, {
        'content-type': 'application/json',
        'stripe-signature': `t=${ts},v1=${'0'.repeat(64)},${header(ts, body).split(',')[1]},v0=abc`,
      })
      expect(res.status).toBe(200)
      const [msg] = await sub.next()
      expect(msg!.topic).toBe('stripe/invoice.paid')

      const replay = await post(url('stripe'), body, {
        'content-type': 'application/json',
        'stripe-signature': header(ts, body),
      })
      expect(((await replay.json()) as { code: number }).code).toBe(40902)
    })

    it('refuses a stale timestamp (40103) and a wrong signature (40102)', async () => {
      const body = JSON.stringify({ id: 'evt_old', type: 'invoice.paid' })
      const old = unix(Date.now() - 6 * 60_000)
      const stale = await post(url('stripe'), body, {
        'content-type': 'application/json',
        'stripe-signature': header(old, body),
      })
      expect(((await stale.json()) as { code: number }).code).toBe(40103)
      const wrong = await post(url('stripe'), body, {
        'content-type': 'application/json',
        'stripe-signature': `t=${unix()},v1=${opensslHmac('whsec_other', `${unix()}.${body}`)}`,
      })
      expect(((await wrong.json()) as { code: number }).code).toBe(40102)
    })
  })

  describe('hmac-sha256', () => {
    it('checks a configurable header over "timestamp.body" with the timestamp header', async () => {
      const body = JSON.stringify({ temp: 21.5 })
      const ts = unix()
      await using sub = await subscriber(t.mqttUrl, 'hooks/signed')
      const ok = await post(url('signed'), body, {
        'content-type': 'application/json',
        'x-ts': ts,
        'x-sig': opensslHmac(HMAC_SECRET, `${ts}.${body}`),
      })
      expect(ok.status).toBe(200)
      expect((await sub.next())[0]!.payload.toString()).toBe(body)
      const old = unix(Date.now() - 3_600_000)
      const stale = await post(url('signed'), body, {
        'content-type': 'application/json',
        'x-ts': old,
        'x-sig': opensslHmac(HMAC_SECRET, `${old}.${body}`),
      })
      expect(((await stale.json()) as { code: number }).code).toBe(40103)
    })

    it('accepts a base64 signature in X-Signature (sha256= prefix optional), and refuses a wrong one', async () => {
      const body = 'plain reading 42'
      await using sub = await subscriber(t.mqttUrl, 'hooks/signed64')
      const ok = await post(url('signed64'), body, {
        'content-type': 'text/plain',
        'x-signature': `sha256=${opensslHmac(HMAC_SECRET, body, 'base64')}`,
      })
      expect(ok.status).toBe(200)
      expect((await sub.next())[0]!.payload.toString()).toBe(body)
      const bad = await post(url('signed64'), body, {
        'content-type': 'text/plain',
        'x-signature': opensslHmac(HMAC_SECRET, `${body}!`, 'base64'),
      })
      expect(((await bad.json()) as { code: number }).code).toBe(40102)
    })
  })

  describe('token', () => {
    it('accepts the token in X-Hook-Token, as a bearer, or as the configured query parameter', async () => {
      await using sub = await subscriber(t.mqttUrl, 'hooks/tok')
      const a = await post(url('tok'), 'a', { 'content-type': 'text/plain', 'x-hook-token': TOKEN })
      const b = await post(url('tok'), 'b', {
        'content-type': 'text/plain',
        authorization: `Bearer ${TOKEN}`,
      })
      const c = await post(url('tok', `?token=${TOKEN}`), 'c', { 'content-type': 'text/plain' })
      expect([a.status, b.status, c.status]).toEqual([200, 200, 200])
      expect((await sub.next(3)).map((m) => m.payload.toString()).sort()).toEqual(['a', 'b', 'c'])
    })

    it('refuses a wrong token (40102), whatever its length', async () => {
      for (const token of ['x', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
        const res = await post(url('tok', `?token=${token}`), 'z', { 'content-type': 'text/plain' })
        expect(((await res.json()) as { code: number }).code).toBe(40102)
      }
    })
  })
})
