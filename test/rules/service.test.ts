import { describe, expect, it } from 'bun:test'
import mqtt from 'mqtt'
import { queryEvents } from '../../src/store/events.ts'
import { createToken } from '../../src/store/tokens.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'

const hotRule = {
  id: 'hot',
  trigger: { type: 'mqtt', filter: 'sensors/+/temp' },
  when: { path: 'c', op: '>=', value: 30 },
  actions: [
    {
      type: 'publish',
      topic: 'alerts/hot',
      payload: '{{topic}}: {{payload.c}}',
      encoding: 'template',
      qos: 1,
    },
  ],
}

function api(t: TestHub) {
  const { secret } = createToken(t.hub.db, { name: 'rules', scope: 'write' })
  return (path: string, init: RequestInit = {}) =>
    fetch(`${t.url}/api/v1${path}`, {
      ...init,
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', ...init.headers },
    })
}

async function subscriber(t: TestHub, filter: string) {
  const client = await mqtt.connectAsync(t.mqttUrl, { reconnectPeriod: 0 })
  await client.subscribeAsync(filter, { qos: 1 })
  const got: Array<{ topic: string; payload: string }> = []
  client.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }))
  return { client, got }
}

describe('rules service', () => {
  it('runs config rules on MQTT publishes matching a wildcard filter and records each firing', async () => {
    await using t = await startTestHub({
      mqtt: { allowAnonymous: true, anonymousAcl: [{ pattern: '#', access: 'readwrite' }] },
      rules: [hotRule],
    })
    const s = await subscriber(t, 'alerts/#')
    await s.client.publishAsync('sensors/kitchen/temp', '{"c": 31.5}', { qos: 1 })
    await s.client.publishAsync('sensors/hall/temp', '{"c": 20}', { qos: 1 })
    await waitFor(() => s.got.length >= 1)
    await t.hub.rules.idle()
    expect(s.got).toEqual([{ topic: 'alerts/hot', payload: 'sensors/kitchen/temp: 31.5' }])
    const fired = queryEvents(t.hub.db, { types: ['rule.fired'] }).items
    expect(fired.map((e) => [e.subject, e.detail])).toEqual([
      ['hot', { rule: 'hot', reason: 'fired', input: { c: 31.5 }, actions: [{ type: 'publish', ok: true }] }],
    ])
    await s.client.endAsync()
  })

  it('creates, lists, replaces and deletes rules through the API, refusing to touch config rules', async () => {
    await using t = await startTestHub({ rules: [hotRule] })
    const call = api(t)
    const body = {
      trigger: { type: 'telemetry', metric: 'no2' },
      when: { path: 'value', op: '>=', value: 88 },
      actions: [{ type: 'event', message: 'no2 high' }],
    }
    expect((await call('/rules/no2', { method: 'PUT', body: JSON.stringify(body) })).status).toBe(201)
    expect(
      (await call('/rules/no2', { method: 'PUT', body: JSON.stringify({ ...body, cooldown: '5m' }) })).status,
    ).toBe(200)
    const list = (await (await call('/rules')).json()) as {
      items: Array<{ rule: { id: string; cooldown?: number }; origin: string }>
    }
    expect(list.items.map((i) => [i.rule.id, i.origin])).toEqual([
      ['hot', 'config'],
      ['no2', 'api'],
    ])
    expect(list.items[1]!.rule.cooldown).toBe(300_000)
    const conflict = await call('/rules/hot', { method: 'PUT', body: JSON.stringify(body) })
    expect(((await conflict.json()) as { code: number }).code).toBe(40901)
    const bad = await call('/rules/x', {
      method: 'PUT',
      body: JSON.stringify({ ...body, when: { path: 'a', op: '=~' } }),
    })
    expect(((await bad.json()) as { code: number }).code).toBe(40002)
    expect((await call('/rules/no2', { method: 'DELETE' })).status).toBe(204)
    expect(((await (await call('/rules/no2')).json()) as { code: number }).code).toBe(40401)
  })

  it('tests a rule against a payload or a series of readings without acting', async () => {
    await using t = await startTestHub({
      rules: [
        {
          id: 'no2',
          trigger: { type: 'telemetry', metric: 'no2' },
          when: { path: 'value', op: '>=', value: 88 },
          hysteresis: { clear: { path: 'value', op: '<', value: 80 }, actions: [] },
          actions: [{ type: 'event', message: 'no2 high' }],
        },
      ],
    })
    const call = api(t)
    const one = await call('/rules/no2/test', {
      method: 'POST',
      body: JSON.stringify({ payload: { value: 90 } }),
    })
    expect(((await one.json()) as { firings: unknown[] }).firings).toHaveLength(1)
    const readings = [90, 95, 70, 100, 50].map((value, i) => ({
      device: 'pi',
      metric: 'no2',
      value,
      ts: i * 1000,
    }))
    const replay = (await (
      await call('/rules/no2/test', { method: 'POST', body: JSON.stringify({ readings }) })
    ).json()) as {
      firings: Array<{ reason: string; input: { value: number } }>
    }
    expect(replay.firings.map((f) => [f.reason, f.input.value])).toEqual([
      ['fired', 90],
      ['cleared', 70],
      ['fired', 100],
      ['cleared', 50],
    ])
    expect(queryEvents(t.hub.db, { types: ['rule.fired', 'action.event'] }).items).toEqual([])
  })

  it('suspends a rule that keeps triggering itself and raises an alert', async () => {
    await using t = await startTestHub({
      mqtt: { allowAnonymous: true, anonymousAcl: [{ pattern: '#', access: 'readwrite' }] },
      rules: [
        {
          id: 'echo',
          trigger: { type: 'mqtt', filter: 'loop/#' },
          actions: [{ type: 'publish', topic: 'loop/again', payload: 'x' }],
        },
      ],
    })
    const client = await mqtt.connectAsync(t.mqttUrl, { reconnectPeriod: 0 })
    await client.publishAsync('loop/start', 'go', { qos: 1 })
    await waitFor(() => t.hub.rules.suspended('echo'), { what: 'the looping rule to be suspended' })
    const alerts = queryEvents(t.hub.db, { types: ['alert'], subject: 'echo' }).items
    expect(alerts).toHaveLength(1)
    await client.endAsync()
  })
})

describe('rules on inbound webhooks', () => {
  it('reads the verified body of a hook delivery', async () => {
    await using t = await startTestHub({
      hooks: [{ name: 'doorbell', preset: 'none', payload: 'raw' }],
      rules: [
        {
          id: 'ring',
          trigger: { type: 'hook', name: 'doorbell' },
          when: { path: 'button', op: '==', value: 'front' },
          actions: [{ type: 'event', message: 'front door: {{payload.button}}' }],
        },
      ],
    })
    for (const button of ['back', 'front']) {
      const res = await fetch(`${t.url}/hooks/doorbell`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ button }),
      })
      expect(res.status).toBe(200)
    }
    await t.hub.rules.idle()
    const events = await waitFor(() => {
      const items = queryEvents(t.hub.db, { types: ['action.event'] }).items
      return items.length ? items : undefined
    })
    expect(events.map((e) => (e.detail as { message: string }).message)).toEqual(['front door: front'])
    expect(queryEvents(t.hub.db, { types: ['hook.body'] }).items).toEqual([])
  })
})
