import { describe, expect, it } from 'bun:test'
import mqtt from 'mqtt'
import { actionSchema } from '../../src/catalog/actions.ts'
import { queryEvents } from '../../src/store/events.ts'
import { startTestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'

const ctx = (data: Record<string, unknown> = {}) => ({ source: 'test:actions', data })
const action = (a: Record<string, unknown>) => actionSchema.parse(a)

/** A local HTTP receiver that records every request. */
function receiver() {
  const got: Array<{ path: string; headers: Headers; body: string }> = []
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      got.push({ path: new URL(req.url).pathname, headers: req.headers, body: await req.text() })
      return new Response('ok')
    },
  })
  return { url: `http://127.0.0.1:${server.port}`, got, [Symbol.dispose]: () => server.stop(true) }
}

describe('actions', () => {
  it('publishes exact bytes, base64 bytes, JSON values and templates to a real subscriber', async () => {
    await using t = await startTestHub({
      mqtt: { allowAnonymous: true, anonymousAcl: [{ pattern: '#', access: 'read' }] },
    })
    const client = await mqtt.connectAsync(t.mqttUrl, { reconnectPeriod: 0 })
    const got: Array<[string, string, number]> = []
    client.on('message', (topic, payload, packet) => got.push([topic, payload.toString('hex'), packet.qos]))
    await client.subscribeAsync('#', { qos: 1 })
    try {
      const results = [
        // Source (d) wrote Python json.dumps output: a space after ':' and ','. Bytes are kept as given.
        await t.hub.actions.run(
          action({ type: 'publish', topic: 'pi/1', payload: '{"warning": "no2 warning"}', qos: 1 }),
          ctx(),
        ),
        await t.hub.actions.run(
          action({ type: 'publish', topic: 'raw', payload: 'AP8=', encoding: 'base64' }),
          ctx(),
        ),
        await t.hub.actions.run(
          action({ type: 'publish', topic: 'json', payload: { on: true, level: 3 } }),
          ctx(),
        ),
        await t.hub.actions.run(
          action({
            type: 'publish',
            topic: 'devices/{{device}}/set',
            payload: '{"temp": {{reading.temp}}, "who": {{device|json}}, "gone": {{nope|json}}}',
            encoding: 'template',
          }),
          ctx({ device: 'a/b+c', reading: { temp: 21.5 } }),
        ),
      ]
      expect(results.map((r) => r.ok)).toEqual([true, true, true, true])
      expect(results[3]).toMatchObject({ detail: { topic: 'devices/a_b_c/set', missing: ['nope'] } })
      await waitFor(() => got.length === 4)
      const hex = (s: string) => Buffer.from(s).toString('hex')
      expect(got).toEqual([
        ['pi/1', hex('{"warning": "no2 warning"}'), 1],
        ['raw', '00ff', 0],
        ['json', hex('{"on":true,"level":3}'), 0],
        ['devices/a_b_c/set', hex('{"temp": 21.5, "who": "a/b+c", "gone": null}'), 0],
      ])
    } finally {
      await client.endAsync()
    }
  })

  it('records an event action in the event log with its source', async () => {
    await using t = await startTestHub()
    const r = await t.hub.actions.run(
      action({ type: 'event', message: 'door {{state}}', level: 'warning' }),
      ctx({ state: 'open' }),
    )
    expect(r).toMatchObject({ ok: true, detail: { message: 'door open' } })
    const [e] = queryEvents(t.hub.db, { types: ['action.event'], limit: 5 }).items
    expect(e).toMatchObject({
      subject: 'test:actions',
      detail: { source: 'test:actions', message: 'door open', level: 'warning' },
    })
  })

  it('fails an action without an executor with a clear error and an event, never a throw', async () => {
    await using t = await startTestHub()
    const r = await t.hub.actions.run(
      // Slack has no executor in a hub without a Slack destination configured.
      action({ type: 'slack', text: 'hello' }),
      ctx(),
    )
    expect(r).toMatchObject({
      ok: false,
      code: 'no-executor',
      error: 'no executor for action type "slack" in this hub',
    })
    const [e] = queryEvents(t.hub.db, { types: ['action.failed'], limit: 5 }).items
    expect(e?.detail).toEqual({
      source: 'test:actions',
      type: 'slack',
      error: 'no executor for action type "slack" in this hub',
    })
  })

  it('lets a later issue plug in an executor, and turns its throw into a failed result', async () => {
    await using t = await startTestHub()
    const seen: unknown[] = []
    const off = t.hub.actions.register('push', (a, c) => {
      seen.push([a.title, c.source])
      if (a.title === 'boom') throw new Error('FCM said no')
      return { sent: 1 }
    })
    expect(() => t.hub.actions.register('push', () => undefined)).toThrow('already registered')
    expect(await t.hub.actions.run(action({ type: 'push', title: 'hi' }), ctx())).toMatchObject({
      ok: true,
      detail: { sent: 1 },
    })
    expect(await t.hub.actions.run(action({ type: 'push', title: 'boom' }), ctx())).toMatchObject({
      ok: false,
      code: 'failed',
      error: 'FCM said no',
    })
    off()
    expect(t.hub.actions.has('push')).toBe(false)
    expect(seen).toEqual([
      ['hi', 'test:actions'],
      ['boom', 'test:actions'],
    ])
  })

  it('delivers webhook actions through the outbox, to a URL or a named target', async () => {
    using rx = receiver()
    await using t = await startTestHub({
      webhooks: [{ name: 'phone-bridge', filter: 'never/#', url: `${rx.url}/target` }],
    })
    const byUrl = await t.hub.actions.run(
      action({ type: 'webhook', url: `${rx.url}/url`, body: '{"temp": {{temp}}}' }),
      ctx({ temp: 21 }),
    )
    const byTarget = await t.hub.actions.run(
      action({ type: 'webhook', target: 'phone-bridge', body: 'hello' }),
      ctx(),
    )
    expect([byUrl.ok, byTarget.ok]).toEqual([true, true])
    await waitFor(() => rx.got.length === 2)
    const byPath = Object.fromEntries(rx.got.map((g) => [g.path, g]))
    expect(byPath['/url']!.body).toBe('{"temp": 21}')
    expect(byPath['/url']!.headers.get('content-type')).toBe('application/json')
    expect(byPath['/url']!.headers.get('idempotency-key')).toBeTruthy()
    expect(JSON.parse(byPath['/target']!.body)).toMatchObject({ topic: 'test:actions', message: 'hello' })

    const missing = await t.hub.actions.run(action({ type: 'webhook', target: 'nobody' }), ctx())
    expect(missing).toMatchObject({ ok: false, error: 'no webhook target named nobody' })
  })

  it('validates actions at the boundary', () => {
    const problems = (a: Record<string, unknown>) => {
      const r = actionSchema.safeParse(a)
      return r.success ? [] : r.error.issues.map((i) => i.path.join('.') || i.message)
    }
    expect(problems({ type: 'publish', topic: 'a/#' })).toEqual(['topic'])
    expect(problems({ type: 'publish', topic: '$SYS/x' })).toEqual(['topic'])
    expect(problems({ type: 'publish', topic: 'a', payload: { x: 1 }, encoding: 'utf8' })).toEqual([
      'payload',
    ])
    expect(problems({ type: 'publish', topic: 'a', payload: 'not base64!', encoding: 'base64' })).toEqual([
      'payload',
    ])
    expect(problems({ type: 'publish', topic: 'a/{{bad path!}}' })).toEqual(['topic'])
    expect(problems({ type: 'webhook' })).toEqual(['give target or url, exactly one'])
    expect(problems({ type: 'teleport' })).toEqual(['type'])
  })
})
