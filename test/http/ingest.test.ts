import { describe, expect, it } from 'bun:test'
import { createDevice } from '../../src/devices/registry.ts'
import type { AnyHubEvent } from '../../src/protocol.ts'
import { queryEvents } from '../../src/store/events.ts'
import { createToken } from '../../src/store/tokens.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'

const T0 = Date.UTC(2025, 0, 15, 12)

/** Source (d)'s body as the Raspberry Pi posted it to API Gateway. */
const GAS_BODY = {
  groupid: '2',
  gps: '37.61002501514269, 126.99636868892937',
  co: { sensorid: '0005', sensortype: '8', value: '26.20', createdtime: '2021-09-03 18:14:49' },
  no2: { sensorid: '0006', sensortype: '9', value: '52.00', createdtime: '2021-09-03 18:14:49' },
  h2: { sensorid: '0008', sensortype: '30', value: '400', createdtime: '2021-09-03 18:14:49' },
  iot_core: 'iot_core',
}

async function setup() {
  const t = await startTestHub({}, { now: () => T0 })
  const { credentials } = await createDevice(t.hub.db, { id: 'pi-1' })
  const other = await createDevice(t.hub.db, { id: 'pi-2' })
  const { secret } = createToken(t.hub.db, { name: 'charts', scope: 'read' })
  const events: AnyHubEvent[] = []
  t.hub.bus.onAny('probe', (e) => {
    if (e.type === 'telemetry.reading' || e.type === 'ingest.received') events.push(e)
  })
  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
  return {
    t,
    events,
    auth: basic(credentials.username, credentials.password),
    otherAuth: basic(other.credentials.username, other.credentials.password),
    basic,
    bearer: `Bearer ${secret}`,
    async [Symbol.asyncDispose]() {
      await t.stop()
    },
  }
}

const post = (t: TestHub, device: string, body: unknown, authorization?: string) =>
  fetch(`${t.url}/ingest/${device}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })

describe('POST /ingest/:device', () => {
  it("stores source (d)'s readings with their time, answers 202 after the commit, and emits the whole body", async () => {
    await using s = await setup()
    const res = await post(s.t, 'pi-1', GAS_BODY, s.auth)
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({
      device: 'pi-1',
      stored: 3,
      duplicates: 0,
      readings: [
        { metric: 'co', ts: T0, value: 26.2 },
        { metric: 'no2', ts: T0, value: 52 },
        { metric: 'h2', ts: T0, value: 400 },
      ],
      ignored: ['groupid', 'gps', 'iot_core'],
    })
    expect(s.events.map((e) => [e.type, e.subject])).toEqual([
      ['telemetry.reading', 'pi-1'],
      ['telemetry.reading', 'pi-1'],
      ['telemetry.reading', 'pi-1'],
      ['ingest.received', 'pi-1'],
    ])
    expect(s.events.at(-1)?.detail).toEqual({
      device: 'pi-1',
      body: GAS_BODY,
      stored: 3,
      ignored: ['groupid', 'gps', 'iot_core'],
    })
    // Readings and ingest requests reach rules and consoles on the bus, not the event log.
    expect(queryEvents(s.t.hub.db, { types: ['telemetry.reading', 'ingest.received'] }).items).toEqual([])

    const chart = await fetch(
      `${s.t.url}/api/v1/telemetry?device=pi-1&metric=no2&from=${T0 - 60_000}&to=${T0}`,
      {
        headers: { authorization: s.bearer },
      },
    )
    expect(chart.status).toBe(200)
    expect(await chart.json()).toEqual({
      device: 'pi-1',
      metric: 'no2',
      from: T0 - 60_000,
      to: T0,
      resolution: 'raw',
      source: 'raw',
      stepMs: 0,
      points: [{ ts: T0, value: 52 }],
    })
  })

  it('accepts flat bodies, arrays and ts (ISO, epoch s or ms), and says what was a repeat', async () => {
    await using s = await setup()
    const body = [
      { temperature: 21.5, ts: '2025-01-15T11:00:00Z' },
      { temperature: 21.7, ts: (T0 - 1_800_000) / 1000 },
      { temperature: { value: '21.9' }, ts: T0 - 60_000 },
    ]
    const first = await post(s.t, 'pi-1', body, s.auth)
    expect(first.status).toBe(202)
    expect(await first.json()).toMatchObject({ stored: 3, duplicates: 0 })
    const again = await post(s.t, 'pi-1', body, s.auth)
    expect(await again.json()).toMatchObject({ stored: 0, duplicates: 3, readings: [] })

    const latest = await fetch(`${s.t.url}/api/v1/telemetry/latest?device=pi-1`, {
      headers: { authorization: s.bearer },
    })
    expect(await latest.json()).toEqual({
      items: [{ device: 'pi-1', metric: 'temperature', ts: T0 - 60_000, value: 21.9 }],
    })
  })

  it('refuses a body with a non-numeric value and stores none of it', async () => {
    await using s = await setup()
    const res = await post(s.t, 'pi-1', [{ co: { value: '26.20' } }, { no2: { value: 'high' } }], s.auth)
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({
      code: 40004,
      error: 'a reading value is not a number',
      details: [{ path: '[1].no2.value', message: 'not a number or numeric string' }],
    })
    expect(s.t.hub.db.query('SELECT count(*) AS n FROM telemetry_raw').get()).toEqual({ n: 0 })
    expect(s.events).toEqual([])
  })

  it('answers each authentication failure with its code', async () => {
    await using s = await setup()
    const cases: Array<[string, string | undefined, unknown, number, number]> = [
      ['pi-1', undefined, { co: 1 }, 401, 40101],
      ['pi-1', s.basic('pi-1', 'wrong-password'), { co: 1 }, 401, 40104],
      ['pi-1', s.otherAuth, { co: 1 }, 403, 40301],
      ['ghost', s.basic('ghost', 'x'), { co: 1 }, 401, 40104],
      ['not a device id', s.basic('not a device id', 'x'), { co: 1 }, 401, 40104],
      ['pi-1', s.auth, '{"co": ', 400, 40001],
      ['pi-1', s.auth, { co: 1, ts: 'tomorrow' }, 400, 40002],
    ]
    for (const [device, authorization, body, status, code] of cases) {
      const res = await post(s.t, device, body, authorization)
      expect({ device, status: res.status, code: ((await res.json()) as { code: number }).code }).toEqual({
        device,
        status,
        code,
      })
      if (status === 401) expect(res.headers.get('www-authenticate')).toStartWith('Basic ')
    }
    expect(s.events).toEqual([])
  })

  it('answers an unknown device exactly as a wrong password, so device ids cannot be listed', async () => {
    await using s = await setup()
    const answer = async (res: Response) => ({
      status: res.status,
      challenge: res.headers.get('www-authenticate'),
      body: await res.text(),
    })
    const unknown = await answer(await post(s.t, 'ghost', { co: 1 }, s.basic('ghost', 'x')))
    const wrong = await answer(await post(s.t, 'pi-1', { co: 1 }, s.basic('pi-1', 'x')))
    expect(unknown).toEqual(wrong)
    expect(unknown.status).toBe(401)
  })

  it('refuses a reading time before 2000 or more than a day ahead with 400 40005, and stores nothing', async () => {
    await using s = await setup()
    const day = 86_400_000
    const refused = [
      { co: 1, ts: 1e20 },
      { co: 1, ts: '9999-12-31T00:00:00Z' },
      { co: 1, ts: 946684799 },
      { co: { value: 1, ts: T0 + day + 1 } },
      [{ co: 1 }, { co: 2, ts: '1999-12-31T23:59:59Z' }],
    ]
    for (const body of refused) {
      const res = await post(s.t, 'pi-1', body, s.auth)
      expect({ body, status: res.status, code: ((await res.json()) as { code: number }).code }).toEqual({
        body,
        status: 400,
        code: 40005,
      })
    }
    expect(s.t.hub.db.query('SELECT count(*) AS n FROM telemetry_raw').get()).toEqual({ n: 0 })
    const edges = await post(
      s.t,
      'pi-1',
      [
        { co: 1, ts: Date.UTC(2000, 0, 1) },
        { co: 2, ts: T0 + day },
      ],
      s.auth,
    )
    expect(edges.status).toBe(202)
    expect(((await edges.json()) as { stored: number }).stored).toBe(2)
  })

  it('serves the telemetry queries only with a token, and documents them in OpenAPI', async () => {
    await using s = await setup()
    const anonymous = await fetch(`${s.t.url}/api/v1/telemetry?device=pi-1&metric=co`)
    expect(anonymous.status).toBe(401)
    const bad = await fetch(`${s.t.url}/api/v1/telemetry?device=pi-1&metric=co&from=${T0}&to=${T0 - 1}`, {
      headers: { authorization: s.bearer },
    })
    expect(((await bad.json()) as { code: number }).code).toBe(40003)
    const doc = (await (await fetch(`${s.t.url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, unknown>
    }
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/telemetry', '/telemetry/latest']))
  })
})

describe('device-scoped tokens', () => {
  it('let a token made for one device post that device readings, and nothing else', async () => {
    await using s = await setup()
    const { secret: deviceToken } = createToken(s.t.hub.db, {
      name: 'pi-1 firmware',
      scope: 'write',
      device: 'pi-1',
    })
    const ok = await post(s.t, 'pi-1', { temperature: 21.5 }, `Bearer ${deviceToken}`)
    expect(ok.status).toBe(202)
    expect(((await ok.json()) as { stored: number }).stored).toBe(1)
    const other = await post(s.t, 'pi-2', { temperature: 21.5 }, `Bearer ${deviceToken}`)
    expect(((await other.json()) as { code: number }).code).toBe(40301)
    // Not an API token: the REST API refuses it.
    const api = await fetch(`${s.t.url}/api/v1/events`, {
      headers: { authorization: `Bearer ${deviceToken}` },
    })
    expect(((await api.json()) as { code: number }).code).toBe(40301)
    // An ordinary API token is not a device's token either.
    const plain = await post(s.t, 'pi-1', { temperature: 1 }, s.bearer)
    expect(((await plain.json()) as { code: number }).code).toBe(40301)
    const forged = await post(s.t, 'pi-1', { temperature: 1 }, 'Bearer hth_nope')
    expect(((await forged.json()) as { code: number }).code).toBe(40101)
  })
})
