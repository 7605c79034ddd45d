import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createToken } from '../../src/store/tokens.ts'
import { subscribed } from '../broker/raw-mqtt.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'
import { opensslHmac, post, subscriber } from './support.ts'

const OPEN_ACL = { allowAnonymous: true, anonymousAcl: [{ pattern: '#', access: 'readwrite' }] }
const TOKEN = 'token-for-capture-tests'

let subscribers = 0

/** `mosquitto_sub` (Debian) waiting for one message; resolves with its payload once it exits. */
async function mosquittoSub(t: TestHub, topic: string) {
  // The broker says when the subscription is in place (mosquitto_sub's stdout is block-buffered).
  const clientId = `hooks-sub-${++subscribers}`
  const proc = Bun.spawn(
    ['mosquitto_sub', '-h', '127.0.0.1', '-p', String(t.mqttPort), '-i', clientId, '-t', topic, '-C', '1'],
    {
      stdout: 'pipe',
      stderr: 'pipe',
    },
  )
  await subscribed(t.hub.broker, clientId, topic)
  return {
    async payload(): Promise<string> {
      const out = await new Response(proc.stdout).text()
      await proc.exited
      return out.trimEnd()
    },
    [Symbol.dispose]: () => proc.kill(),
  }
}

const code = async (res: Response) => [res.status, ((await res.json()) as { code: number }).code]

describe('inbound webhooks at /hooks/:name', () => {
  let t: TestHub
  let admin: Record<string, string>
  beforeAll(async () => {
    t = await startTestHub({
      mqtt: OPEN_ACL,
      http: { maxBodyBytes: 2048 },
      hooks: [
        // Source system (e): the body's "message" is the MQTT payload.
        { name: 'x', preset: 'none', payload: 'field', field: 'message' },
        {
          name: 'tpl',
          preset: 'none',
          topic: 'home/{body.room}/{name}',
          payload: 'template',
          template: '{"state": {body.state|json}, "via": "{name}", "q": "{query.src}"}',
          qos: 1,
          retain: true,
        },
        { name: 'tok', preset: 'token', secret: TOKEN },
      ],
    })
    admin = { authorization: `Bearer ${createToken(t.hub.db, { name: 'admin', scope: 'admin' }).secret}` }
  })
  afterAll(() => t.stop())

  describe('source system (e)', () => {
    it('publishes "on" for POST /hooks/x {"message": "on"}, seen by mosquitto_sub, and answers {"status":"ok"}', async () => {
      using sub = await mosquittoSub(t, 'hooks/x')
      const res = await post(`${t.url}/hooks/x`, JSON.stringify({ message: 'on' }), {
        'content-type': 'application/json',
      })
      expect([res.status, await res.json()]).toEqual([200, { status: 'ok' }])
      expect(await sub.payload()).toBe('on')
    })

    it('publishes a text/plain body as it is', async () => {
      await using sub = await subscriber(t.mqttUrl, 'hooks/x')
      const res = await post(`${t.url}/hooks/x`, 'off', { 'content-type': 'text/plain; charset=utf-8' })
      expect(await res.json()).toEqual({ status: 'ok' })
      expect((await sub.next())[0]!.payload.toString()).toBe('off')
    })

    it("reads curl -d's JSON body as JSON although curl declares a form", async () => {
      await using sub = await subscriber(t.mqttUrl, 'hooks/x')
      const curl = Bun.spawn(['curl', '-sS', '-d', '{"message":"on"}', `${t.url}/hooks/x`], {
        stdout: 'pipe',
        stderr: 'pipe',
      })
      const out = await new Response(curl.stdout).text()
      expect([await curl.exited, JSON.parse(out)]).toEqual([0, { status: 'ok' }])
      expect((await sub.next())[0]!.payload.toString()).toBe('on')
    })

    it('reads a body sent without a Content-Type as JSON when it is JSON, else as its text', async () => {
      await using sub = await subscriber(t.mqttUrl, 'hooks/x')
      const json = await post(`${t.url}/hooks/x`, new TextEncoder().encode('{"message":"dim"}'))
      const text = await post(`${t.url}/hooks/x`, new TextEncoder().encode('bright'))
      expect([json.status, text.status]).toEqual([200, 200])
      expect((await sub.next(2)).map((m) => m.payload.toString())).toEqual(['dim', 'bright'])
    })

    it('names the content type it saw when a form body lacks the mapped field', async () => {
      const res = await post(`${t.url}/hooks/x`, 'other=1', {
        'content-type': 'application/x-www-form-urlencoded',
      })
      const body = (await res.json()) as { code: number; error: string }
      expect([res.status, body.code]).toEqual([422, 42201])
      expect(body.error).toContain('form fields (Content-Type application/x-www-form-urlencoded)')
    })

    it('publishes before it answers: the message is routed when the 200 arrives', async () => {
      await using sub = await subscriber(t.mqttUrl, 'hooks/x')
      const routed: string[] = []
      t.hub.bus.on('test-order', 'hook.received', (e) => routed.push(e.detail.topic))
      const res = await post(`${t.url}/hooks/x`, JSON.stringify({ message: 1 }), {
        'content-type': 'application/json',
      })
      expect(res.status).toBe(200)
      expect(routed).toEqual(['hooks/x'])
      t.hub.bus.off('test-order')
      expect((await sub.next())[0]!.payload.toString()).toBe('1')
    })
  })

  describe('errors, each with its code', () => {
    it('answers 404 40401 for an unknown hook', async () => {
      expect(
        await code(await post(`${t.url}/hooks/nope`, '{}', { 'content-type': 'application/json' })),
      ).toEqual([404, 40401])
    })

    it('answers 413 41301 for a body over http.maxBodyBytes', async () => {
      const res = await post(`${t.url}/hooks/x`, JSON.stringify({ message: 'x'.repeat(4096) }), {
        'content-type': 'application/json',
      })
      expect(await code(res)).toEqual([413, 41301])
    })

    it('answers 415 41501 for an unsupported content type', async () => {
      const res = await post(`${t.url}/hooks/x`, '<a/>', { 'content-type': 'application/xml' })
      expect(await code(res)).toEqual([415, 41501])
    })

    it('answers 400 40001 for invalid JSON', async () => {
      const res = await post(`${t.url}/hooks/x`, '{"message": ', { 'content-type': 'application/json' })
      expect(await code(res)).toEqual([400, 40001])
    })

    it('answers 422 42201 when the mapped field is missing', async () => {
      const res = await post(`${t.url}/hooks/x`, '{"other": 1}', { 'content-type': 'application/json' })
      expect(await code(res)).toEqual([422, 42201])
    })

    it('answers 401 40102 for a bad token', async () => {
      const res = await post(`${t.url}/hooks/tok`, 'x', {
        'content-type': 'text/plain',
        'x-hook-token': 'wrong',
      })
      expect(await code(res)).toEqual([401, 40102])
    })
  })

  describe('mapping', () => {
    it('fills the topic from body paths, renders the payload template, and keeps QoS and retain', async () => {
      await using sub = await subscriber(t.mqttUrl, 'home/#')
      const res = await post(`${t.url}/hooks/tpl?src=door`, JSON.stringify({ room: 'hall', state: 'open' }), {
        'content-type': 'application/json',
      })
      expect(res.status).toBe(200)
      const [msg] = await sub.next()
      expect({ ...msg!, payload: JSON.parse(msg!.payload.toString()) }).toEqual({
        topic: 'home/hall/tpl',
        payload: { state: 'open', via: 'tpl', q: 'door' },
        qos: 1,
        retain: false,
      })
      // Retained: a later subscriber gets it with the retain flag.
      await using late = await subscriber(t.mqttUrl, 'home/hall/tpl')
      expect((await late.next())[0]!.retain).toBe(true)
    })

    it('keeps a body value inside one topic level (no "/", "+" or "#" from a body)', async () => {
      await using sub = await subscriber(t.mqttUrl, 'home/+/tpl')
      await post(`${t.url}/hooks/tpl`, JSON.stringify({ room: 'a/b#', state: 1 }), {
        'content-type': 'application/json',
      })
      // (The retained message of the test before arrives too.)
      const fresh = await waitFor(() => sub.messages.find((m) => !m.retain))
      expect(fresh.topic).toBe('home/a_b_/tpl')
    })

    it('answers 422 when a topic placeholder has no value', async () => {
      const res = await post(`${t.url}/hooks/tpl`, JSON.stringify({ state: 1 }), {
        'content-type': 'application/json',
      })
      expect(await code(res)).toEqual([422, 42201])
    })
  })

  describe('captured deliveries', () => {
    it('lists every delivery with headers, body, verification and what was published; secrets redacted', async () => {
      await post(`${t.url}/hooks/tok`, 'good', {
        'content-type': 'text/plain',
        'x-hook-token': TOKEN,
        'x-extra': '1',
      })
      await post(`${t.url}/hooks/tok`, 'bad', { 'content-type': 'text/plain', 'x-hook-token': 'nope' })
      const res = await fetch(`${t.url}/api/v1/hooks/tok/deliveries`, { headers: admin })
      const page = (await res.json()) as { items: Array<Record<string, unknown>> }
      const [bad, good] = page.items
      expect(bad).toMatchObject({
        body: 'bad',
        verification: 'bad signature',
        status: 401,
        code: 40102,
        published: null,
      })
      expect(good).toMatchObject({
        hook: 'tok',
        body: 'good',
        bodyEncoding: 'utf8',
        bodySize: 4,
        truncated: false,
        verification: 'ok (token)',
        status: 200,
        code: null,
        published: { topic: 'hooks/tok', payload: 'good', qos: 0, retain: false },
        replayOf: null,
      })
      expect((good!.headers as Record<string, string>)['x-hook-token']).toBe('[redacted]')
      expect((good!.headers as Record<string, string>)['x-extra']).toBe('1')
    })

    it('replays a captured delivery through the API with the current mapping', async () => {
      await post(`${t.url}/hooks/x`, JSON.stringify({ message: 'replay me' }), {
        'content-type': 'application/json',
      })
      const page = (await (
        await fetch(`${t.url}/api/v1/hooks/x/deliveries?limit=1`, { headers: admin })
      ).json()) as {
        items: Array<{ id: number }>
        nextCursor?: string
      }
      expect(page.nextCursor).toBeDefined()
      const id = page.items[0]!.id
      await using sub = await subscriber(t.mqttUrl, 'hooks/x')
      const res = await fetch(`${t.url}/api/v1/hooks/x/deliveries/${id}/replay`, {
        method: 'POST',
        headers: admin,
      })
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({
        replayOf: id,
        verification: 'replay',
        published: { payload: 'replay me' },
      })
      expect((await sub.next())[0]!.payload.toString()).toBe('replay me')
    })

    it('refuses to replay a delivery that failed verification (409) and needs a token (401)', async () => {
      const page = (await (
        await fetch(`${t.url}/api/v1/hooks/tok/deliveries`, { headers: admin })
      ).json()) as {
        items: Array<{ id: number; status: number }>
      }
      const failed = page.items.find((d) => d.status === 401)!
      const res = await fetch(`${t.url}/api/v1/hooks/tok/deliveries/${failed.id}/replay`, {
        method: 'POST',
        headers: admin,
      })
      expect(await code(res)).toEqual([409, 40901])
      expect(await code(await fetch(`${t.url}/api/v1/hooks/tok/deliveries`))).toEqual([401, 40101])
    })
  })

  describe('hooks defined through the API', () => {
    it('creates a hook with a generated secret shown once, lists it with the config hooks, and accepts deliveries', async () => {
      const created = await fetch(`${t.url}/api/v1/hooks`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'api-gh', preset: 'github', topic: 'api/{name}' }),
      })
      expect(created.status).toBe(201)
      const { hook, secret } = (await created.json()) as { hook: Record<string, unknown>; secret: string }
      expect(hook).toMatchObject({ name: 'api-gh', source: 'api', hasSecret: true, url: '/hooks/api-gh' })
      expect(secret.length).toBeGreaterThan(30)

      const list = (await (await fetch(`${t.url}/api/v1/hooks`, { headers: admin })).json()) as {
        items: Array<{ name: string; source: string }>
      }
      expect(list.items.map((h) => `${h.name}:${h.source}`)).toEqual([
        'api-gh:api',
        'tok:config',
        'tpl:config',
        'x:config',
      ])
      expect(JSON.stringify(list)).not.toContain(secret)

      await using sub = await subscriber(t.mqttUrl, 'api/api-gh')
      const body = '{"zen":"ok"}'
      const res = await post(`${t.url}/hooks/api-gh`, body, {
        'content-type': 'application/json',
        'x-hub-signature-256': `sha256=${opensslHmac(secret, body)}`,
      })
      expect(res.status).toBe(200)
      expect((await sub.next())[0]!.payload.toString()).toBe(body)
    })

    it('updates and deletes API hooks, but not config hooks (409)', async () => {
      const headers = { ...admin, 'content-type': 'application/json' }
      const put = await fetch(`${t.url}/api/v1/hooks/api-gh`, {
        method: 'PUT',
        headers,
        body: JSON.stringify({ preset: 'github', topic: 'api2/{name}', qos: 1 }),
      })
      expect(await put.json()).toMatchObject({
        name: 'api-gh',
        topic: 'api2/{name}',
        qos: 1,
        hasSecret: true,
      })
      const configHook = await fetch(`${t.url}/api/v1/hooks/x`, {
        method: 'PUT',
        headers,
        body: JSON.stringify({ preset: 'none' }),
      })
      expect(await code(configHook)).toEqual([409, 40901])
      expect((await fetch(`${t.url}/api/v1/hooks/api-gh`, { method: 'DELETE', headers: admin })).status).toBe(
        204,
      )
      expect(
        await code(await post(`${t.url}/hooks/api-gh`, '{}', { 'content-type': 'application/json' })),
      ).toEqual([404, 40401])
    })

    it('refuses a hook without a verification preset, and an invalid template (40002)', async () => {
      const headers = { ...admin, 'content-type': 'application/json' }
      const noPreset = await fetch(`${t.url}/api/v1/hooks`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: 'open' }),
      })
      expect(await code(noPreset)).toEqual([400, 40002])
      const badTopic = await fetch(`${t.url}/api/v1/hooks`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: 'bad', preset: 'none', topic: 'a/{nothing.here}' }),
      })
      expect(await code(badTopic)).toEqual([400, 40002])
    })
  })
})
