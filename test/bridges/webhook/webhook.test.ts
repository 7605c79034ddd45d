import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import mqtt, { type MqttClient } from 'mqtt'
import { queryEvents } from '../../../src/store/events.ts'
import { createToken } from '../../../src/store/tokens.ts'
import { startTestHub, type TestHub } from '../../helpers/hub.ts'
import { waitFor } from '../../helpers/wait.ts'
import { opensslHmac, subscriber } from '../../hooks/support.ts'
import { startReceiver } from './receiver.ts'

const SECRET = 'outbound-secret-for-hearth-tests'
const OPEN_ACL = { allowAnonymous: true, anonymousAcl: [{ pattern: '#', access: 'readwrite' }] }

type Envelope = {
  topic: string
  message: string
  encoding?: string
  qos: number
  retain: boolean
  ts: number
}

describe('outbound webhooks: MQTT topic filter -> HTTP POST through the outbox', () => {
  const receiver = startReceiver()
  let t: TestHub
  let pub: MqttClient
  let admin: Record<string, string>

  beforeAll(async () => {
    t = await startTestHub({
      mqtt: OPEN_ACL,
      outbox: { backoffBase: 10, backoffMax: 40, breakerThreshold: 50 },
      webhooks: [
        { name: 'sensors', filter: 'sensors/#', url: receiver.url('/sensors'), secret: SECRET },
        {
          name: 'rooms',
          filter: 'rooms/+/temp',
          url: receiver.url('/rooms'),
          headers: { 'X-Custom': 'yes' },
        },
        {
          name: 'alerts',
          filter: 'alerts/+',
          url: receiver.url('/alerts'),
          template:
            '{"text": {message|json}, "room": "{levels.1}", "value": {json.value|json}, "key": "{key}"}',
        },
        { name: 'everything', filter: '#', url: receiver.url('/everything') },
        { name: 'flaky', filter: 'flaky/#', url: receiver.url('/flaky') },
        { name: 'hang', filter: 'hang/#', url: receiver.url('/hang'), timeout: '30s' },
      ],
    })
    admin = { authorization: `Bearer ${createToken(t.hub.db, { name: 'admin', scope: 'admin' }).secret}` }
    pub = await mqtt.connectAsync(t.mqttUrl, { reconnectPeriod: 0, clientId: 'publisher' })
  })
  afterAll(async () => {
    await pub.endAsync(true)
    await t.stop()
    await receiver[Symbol.asyncDispose]()
  })

  const publish = (topic: string, payload: string | Buffer, qos: 0 | 1 = 1, retain = false) =>
    pub.publishAsync(topic, payload, { qos, retain })
  const bodies = (path: string) => receiver.at(path).map((r) => JSON.parse(r.body) as Envelope)

  it('posts the JSON envelope, signed with X-Hearth-Signature (checked with openssl), with an Idempotency-Key', async () => {
    await publish('sensors/kitchen/co2', '{"ppm": 412}')
    const [req] = await waitFor(() => receiver.at('/sensors').length === 1 && receiver.at('/sensors'))
    const body = JSON.parse(req!.body) as Envelope
    expect(body).toEqual({
      topic: 'sensors/kitchen/co2',
      message: '{"ppm": 412}',
      qos: 1,
      retain: false,
      ts: body.ts,
    })
    expect(Math.abs(body.ts - Date.now())).toBeLessThan(10_000)
    expect(req!.headers['content-type']).toBe('application/json')
    expect(req!.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/)
    const sig = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(req!.headers['x-hearth-signature']!)
    expect(sig).not.toBeNull()
    expect(sig![2]).toBe(opensslHmac(SECRET, `${sig![1]}.${req!.body}`))
    // Unsigned targets send no signature.
    await publish('rooms/hall/temp', '20')
    const [room] = await waitFor(() => receiver.at('/rooms').length === 1 && receiver.at('/rooms'))
    expect(room!.headers['x-hearth-signature']).toBeUndefined()
    expect(room!.headers['x-custom']).toBe('yes')
  })

  it('matches + as one level and # as any depth (including the parent), never $SYS for a leading wildcard', async () => {
    const before = receiver.at('/rooms').length
    await publish('rooms/kitchen/temp', '21', 0)
    await publish('rooms/kitchen/humidity', '40', 0)
    await publish('rooms/a/b/temp', '22', 0)
    await publish('rooms/temp', '23', 0)
    await publish('sensors', 'parent', 0)
    await publish('sensors/a/b/c', 'deep', 0)
    await publish('rooms/bath/temp', '24', 0)
    await waitFor(
      () =>
        receiver.at('/rooms').length === before + 2 && bodies('/sensors').some((b) => b.message === 'deep'),
    )
    expect(
      bodies('/rooms')
        .slice(before)
        .map((b) => b.topic),
    ).toEqual(['rooms/kitchen/temp', 'rooms/bath/temp'])
    expect(bodies('/sensors').map((b) => b.topic)).toContain('sensors')
    // A connecting client makes the broker publish $SYS/<id>/new/clients; `#` must not forward it.
    const other = await mqtt.connectAsync(t.mqttUrl, { reconnectPeriod: 0 })
    await other.endAsync()
    await publish('after/sys', 'marker', 0)
    await waitFor(() => bodies('/everything').some((b) => b.topic === 'after/sys'))
    expect(bodies('/everything').filter((b) => b.topic.startsWith('$'))).toEqual([])
  })

  it('sends a payload that is not UTF-8 as base64 with "encoding": "base64"', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80])
    await publish('sensors/raw', bytes)
    const body = await waitFor(() => bodies('/sensors').find((b) => b.topic === 'sensors/raw'))
    expect(body).toMatchObject({ message: bytes.toString('base64'), encoding: 'base64' })
  })

  it('renders a body template with topic levels, the message and its JSON fields', async () => {
    await publish('alerts/lab', '{"value": 88, "what": "no2"}')
    const [req] = await waitFor(() => receiver.at('/alerts').length === 1 && receiver.at('/alerts'))
    expect(JSON.parse(req!.body)).toEqual({
      text: '{"value": 88, "what": "no2"}',
      room: 'lab',
      value: 88,
      key: req!.headers['idempotency-key'],
    })
  })

  it('retries 5xx and 408 until the receiver recovers, with the same Idempotency-Key every time', async () => {
    receiver.behave('/flaky', (_r, n) =>
      n === 1
        ? new Response('busy', { status: 503 })
        : n === 2
          ? new Response('', { status: 408 })
          : new Response('ok'),
    )
    await publish('flaky/one', 'x')
    await waitFor(() => receiver.at('/flaky').length === 3)
    const keys = new Set(receiver.at('/flaky').map((r) => r.headers['idempotency-key']))
    expect(keys.size).toBe(1)
    await waitFor(
      () =>
        (t.hub.db.query(`SELECT count(*) AS n FROM outbox WHERE target = 'flaky'`).get() as { n: number })
          .n === 0,
    )
  })

  it('honours Retry-After from a 429', async () => {
    receiver.behave('/flaky', (r) =>
      r.body.includes('limited') &&
      receiver.at('/flaky').filter((x) => x.body.includes('limited')).length === 1
        ? new Response('slow down', { status: 429, headers: { 'Retry-After': '1' } })
        : new Response('ok'),
    )
    await publish('flaky/limited', 'limited')
    await waitFor(() => receiver.at('/flaky').filter((x) => x.body.includes('limited')).length === 2)
    const [first, second] = receiver.at('/flaky').filter((x) => x.body.includes('limited'))
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(990)
  })

  it('sends another 4xx to the dead letters at once; the API lists, replays and discards them', async () => {
    let accept = false
    receiver.behave('/flaky', () =>
      accept ? new Response('ok') : new Response('no such thing', { status: 404 }),
    )
    await publish('flaky/dead/1', 'one')
    await publish('flaky/dead/2', 'two')
    type Page = {
      items: Array<{ id: number; state: string; attempts: number; deadReason: string; lastStatus: number }>
    }
    const dead = await waitFor(async () => {
      const page = (await (
        await fetch(`${t.url}/api/v1/outbox?state=dead&target=flaky`, { headers: admin })
      ).json()) as Page
      return page.items.length === 2 && page.items
    })
    expect(dead.map((d) => [d.state, d.attempts, d.lastStatus, d.deadReason])).toEqual([
      ['dead', 1, 404, 'bad request: HTTP 404: no such thing'],
      ['dead', 1, 404, 'bad request: HTTP 404: no such thing'],
    ])
    accept = true
    const before = receiver.at('/flaky').length
    const replay = await fetch(`${t.url}/api/v1/outbox/${dead[0]!.id}/replay`, {
      method: 'POST',
      headers: admin,
    })
    expect(await replay.json()).toMatchObject({ id: dead[0]!.id, state: 'pending', attempts: 0 })
    await waitFor(() => receiver.at('/flaky').length === before + 1)
    expect(receiver.at('/flaky').at(-1)!.body).toContain('"message":"one"')
    // The receiver answers before the outbox records the delivery: wait until the entry is gone.
    await waitFor(
      async () => (await fetch(`${t.url}/api/v1/outbox/${dead[0]!.id}`, { headers: admin })).status === 404,
    )
    const again = await fetch(`${t.url}/api/v1/outbox/${dead[0]!.id}/replay`, {
      method: 'POST',
      headers: admin,
    })
    expect(again.status).toBe(404)
    expect(
      (await fetch(`${t.url}/api/v1/outbox/${dead[1]!.id}`, { method: 'DELETE', headers: admin })).status,
    ).toBe(204)
    const left = (await (await fetch(`${t.url}/api/v1/outbox?state=dead`, { headers: admin })).json()) as Page
    expect(left.items).toEqual([])
  })

  it('never holds up the broker: a receiver that does not answer delays neither subscribers nor PUBACK', async () => {
    const { promise: released, resolve: release } = Promise.withResolvers<void>()
    receiver.behave('/hang', async () => {
      await released
      return new Response('ok')
    })
    await using sub = await subscriber(t.mqttUrl, 'hang/#')
    for (let i = 0; i < 20; i++) await publish(`hang/${i}`, String(i), 1)
    expect((await sub.next(20)).length).toBe(20)
    const pending = (await (
      await fetch(`${t.url}/api/v1/outbox?target=hang`, { headers: admin })
    ).json()) as {
      items: Array<{ state: string }>
    }
    expect(pending.items).toHaveLength(20)
    expect(pending.items.filter((i) => i.state === 'sending').length).toBe(4)
    release()
    await waitFor(() => receiver.at('/hang').length === 20)
  })

  it('creates, changes and deletes targets through /api/v1/webhook-targets', async () => {
    const headers = { ...admin, 'content-type': 'application/json' }
    const created = await fetch(`${t.url}/api/v1/webhook-targets`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'api', filter: 'api/+', url: receiver.url('/api') }),
    })
    expect(created.status).toBe(201)
    const { target, secret } = (await created.json()) as { target: Record<string, unknown>; secret: string }
    expect(target).toMatchObject({ name: 'api', filter: 'api/+', source: 'api', signed: true, enabled: true })
    await publish('api/1', 'first')
    const [req] = await waitFor(() => receiver.at('/api').length === 1 && receiver.at('/api'))
    const sig = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(req!.headers['x-hearth-signature']!)!
    expect(sig[2]).toBe(opensslHmac(secret, `${sig[1]}.${req!.body}`))

    const put = await fetch(`${t.url}/api/v1/webhook-targets/api`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ filter: 'api2/#', url: receiver.url('/api') }),
    })
    expect(await put.json()).toMatchObject({ filter: 'api2/#', signed: true })
    await publish('api/2', 'old filter')
    await publish('api2/x/y', 'new filter')
    await waitFor(() => receiver.at('/api').length === 2)
    expect(JSON.parse(receiver.at('/api')[1]!.body).topic).toBe('api2/x/y')

    const list = (await (await fetch(`${t.url}/api/v1/webhook-targets`, { headers: admin })).json()) as {
      items: Array<{ name: string; source: string }>
    }
    expect(list.items.map((i) => `${i.name}:${i.source}`)).toContain('api:api')
    expect(list.items.map((i) => `${i.name}:${i.source}`)).toContain('sensors:config')
    const configOne = await fetch(`${t.url}/api/v1/webhook-targets/sensors`, {
      method: 'DELETE',
      headers: admin,
    })
    expect(((await configOne.json()) as { code: number }).code).toBe(40901)
    expect(
      (await fetch(`${t.url}/api/v1/webhook-targets/api`, { method: 'DELETE', headers: admin })).status,
    ).toBe(204)
    await publish('api2/gone', 'after delete')
    await publish('sensors/after-delete', 'marker')
    await waitFor(() => bodies('/sensors').some((b) => b.topic === 'sensors/after-delete'))
    expect(receiver.at('/api')).toHaveLength(2)
  })

  it('refuses an invalid target: bad filter, reserved header (40002)', async () => {
    const headers = { ...admin, 'content-type': 'application/json' }
    for (const bad of [
      { name: 'b1', filter: 'a/#/b', url: receiver.url('/x') },
      { name: 'b2', filter: 'a', url: 'ftp://example.com' },
      { name: 'b3', filter: 'a', url: receiver.url('/x'), headers: { 'Idempotency-Key': 'mine' } },
    ]) {
      const res = await fetch(`${t.url}/api/v1/webhook-targets`, {
        method: 'POST',
        headers,
        body: JSON.stringify(bad),
      })
      expect([res.status, ((await res.json()) as { code: number }).code]).toEqual([400, 40002])
    }
  })
})

describe('X-Hearth-Delivery', () => {
  it('is unique per delivery, also after the outbox emptied (ids are never reused)', async () => {
    await using receiver = startReceiver()
    await using t = await startTestHub({
      mqtt: OPEN_ACL,
      webhooks: [{ name: 'door', filter: 'door/#', url: receiver.url('/door') }],
    })
    await using pub = await subscriberlessClient(t.mqttUrl)
    const outboxSize = () => (t.hub.db.query('SELECT count(*) AS n FROM outbox').get() as { n: number }).n
    for (const [i, state] of ['open', 'closed', 'open'].entries()) {
      await pub.client.publishAsync('door/front', state, { qos: 1 })
      await waitFor(() => receiver.at('/door').length === i + 1 && outboxSize() === 0, {
        what: `delivery ${i + 1} done and gone from the outbox`,
      })
    }
    const ids = receiver.at('/door').map((r) => r.headers['x-hearth-delivery'] ?? '')
    expect(new Set(ids).size).toBe(3)
    const succeeded = queryEvents(t.hub.db, { types: ['delivery.succeeded'] }).items.map((e) =>
      String((e.detail as { id: number }).id),
    )
    expect(succeeded.reverse()).toEqual(ids)
  })
})

async function subscriberlessClient(url: string) {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, clientId: `pub-${crypto.randomUUID()}` })
  return { client, [Symbol.asyncDispose]: () => client.endAsync(true) }
}
