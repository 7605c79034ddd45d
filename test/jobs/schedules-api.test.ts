import { describe, expect, it } from 'bun:test'
import mqtt from 'mqtt'
import { createToken } from '../../src/store/tokens.ts'
import { startTestHub, type TestHub, tempDir } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'

// Sunday 2025-01-05 23:10 in Seoul.
const T0 = Date.parse('2025-01-05T14:10:00Z')

function client(t: TestHub) {
  const auth = (scope: 'read' | 'write') => ({
    authorization: `Bearer ${createToken(t.hub.db, { name: `t-${scope}-${crypto.randomUUID()}`, scope }).secret}`,
  })
  const write = auth('write')
  const read = auth('read')
  const call = async (method: string, path: string, body?: unknown, headers = write) => {
    const res = await fetch(`${t.url}/api/v1${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : undefined }
  }
  return { call, read }
}

const saveLocation = {
  id: 'save-location',
  name: 'silent push every 30 minutes',
  kind: 'cron',
  cron: '*/30 * * * *',
  timezone: 'Asia/Seoul',
  actions: [{ type: 'publish', topic: 'phones/wake', payload: '{"thread": "saveLocation"}', qos: 1 }],
}

describe('/api/v1/schedules', () => {
  it('creates schedules, previews their next runs in their zone and refuses what does not fit', async () => {
    let now = T0
    await using t = await startTestHub({ timezone: 'Asia/Seoul' }, { now: () => now })
    const { call, read } = client(t)

    const created = await call('POST', '/schedules', saveLocation)
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({
      id: 'save-location',
      origin: 'api',
      schedule: { kind: 'cron', cron: '*/30 * * * *', missed: { policy: 'skip' }, enabled: true },
      state: {
        timezone: 'Asia/Seoul',
        nextRun: '2025-01-05T23:30:00+09:00',
        lastRunAt: null,
        running: false,
      },
    })
    const next = await call('GET', '/schedules/save-location/next?count=10', undefined, read)
    expect(next.body.runs).toHaveLength(10)
    expect(next.body.runs.slice(0, 3).map((r: { local: string }) => r.local)).toEqual([
      '2025-01-05T23:30:00+09:00',
      '2025-01-06T00:00:00+09:00',
      '2025-01-06T00:30:00+09:00',
    ])

    // Monday 00:10 in Seoul; the zone comes from the config default.
    const weekly = await call('POST', '/schedules', {
      kind: 'weekly',
      days: ['mon'],
      at: '00:10',
      actions: [{ type: 'event', message: 'check your week' }],
    })
    expect(weekly.status).toBe(201)
    expect(weekly.body.id).toStartWith('sch_')
    const weeklyNext = await call('GET', `/schedules/${weekly.body.id}/next?count=3`)
    expect(weeklyNext.body).toEqual({
      id: weekly.body.id,
      timezone: 'Asia/Seoul',
      runs: [
        { at: Date.parse('2025-01-05T15:10:00Z'), local: '2025-01-06T00:10:00+09:00' },
        { at: Date.parse('2025-01-12T15:10:00Z'), local: '2025-01-13T00:10:00+09:00' },
        { at: Date.parse('2025-01-19T15:10:00Z'), local: '2025-01-20T00:10:00+09:00' },
      ],
    })

    expect((await call('POST', '/schedules', saveLocation)).body.code).toBe(40901)
    const bad = await call('POST', '/schedules', { ...saveLocation, id: 'x', cron: '* * *' })
    expect([bad.status, bad.body.code, bad.body.details.map((d: { path: string }) => d.path)]).toEqual([
      400,
      40002,
      ['cron'],
    ])
    const past = await call('POST', '/schedules', {
      kind: 'once',
      at: '2025-01-01T00:00',
      actions: saveLocation.actions,
    })
    expect([past.status, past.body.details]).toEqual([400, [{ path: 'at', message: 'is in the past' }]])
    expect((await call('POST', '/schedules', saveLocation, read)).body.code).toBe(40301)
    expect((await call('GET', '/schedules/save-location/next?count=1000')).body.code).toBe(40002)

    // Disabled: no next runs; re-enabled: counted from now.
    now = T0 + 3_600_000
    const off = await call('PUT', '/schedules/save-location', { ...saveLocation, enabled: false })
    expect([off.status, off.body.state.nextRunAt]).toEqual([200, null])
    expect((await call('GET', '/schedules/save-location/next')).body.runs).toEqual([])
    const on = await call('PUT', '/schedules/save-location', saveLocation)
    expect(on.body.state.nextRun).toBe('2025-01-06T00:30:00+09:00')

    expect((await call('DELETE', `/schedules/${weekly.body.id}`)).status).toBe(204)
    expect((await call('GET', `/schedules/${weekly.body.id}`)).body.code).toBe(40401)
    expect(
      (await call('GET', '/schedules', undefined, read)).body.items.map((s: { id: string }) => s.id),
    ).toEqual(['save-location'])
  })

  it('runs a schedule when the clock says so, publishes to a real subscriber and lists its runs', async () => {
    let now = T0
    await using t = await startTestHub(
      { mqtt: { allowAnonymous: true, anonymousAcl: [{ pattern: 'phones/#', access: 'read' }] } },
      { now: () => now },
    )
    const { call } = client(t)
    await call('POST', '/schedules', saveLocation)
    const sub = await mqtt.connectAsync(t.mqttUrl, { reconnectPeriod: 0 })
    const got: string[] = []
    sub.on('message', (_topic, payload) => got.push(payload.toString()))
    await sub.subscribeAsync('phones/#', { qos: 1 })
    try {
      for (const at of ['2025-01-05T14:30:00Z', '2025-01-05T15:00:00Z']) {
        now = Date.parse(at)
        t.hub.scheduler.tick()
        await t.hub.scheduler.idle()
      }
      await waitFor(() => got.length === 2)
      expect(got).toEqual(['{"thread": "saveLocation"}', '{"thread": "saveLocation"}'])
    } finally {
      await sub.endAsync()
    }
    const page = await call('GET', '/schedules/save-location/runs?limit=1')
    expect(page.body.items).toEqual([
      {
        id: expect.any(Number),
        scheduledAt: Date.parse('2025-01-05T15:00:00Z'),
        scheduled: '2025-01-06T00:00:00+09:00',
        startedAt: Date.parse('2025-01-05T15:00:00Z'),
        finishedAt: Date.parse('2025-01-05T15:00:00Z'),
        status: 'ok',
        late: false,
        reason: null,
        results: [
          {
            type: 'publish',
            ok: true,
            ms: 0,
            detail: { topic: 'phones/wake', bytes: 26, qos: 1, retain: false },
          },
        ],
      },
    ])
    const older = await call('GET', `/schedules/save-location/runs?limit=1&cursor=${page.body.nextCursor}`)
    expect(older.body.items.map((r: { scheduled: string }) => r.scheduled)).toEqual([
      '2025-01-05T23:30:00+09:00',
    ])
    expect(older.body.nextCursor).toBeUndefined()
  })

  it('lists config-file schedules, which the API cannot change, and keeps API ones across a restart', async () => {
    using dir = tempDir()
    const now = () => T0
    const config = {
      timezone: 'Asia/Seoul',
      schedules: [
        {
          id: 'path-daily',
          kind: 'weekly',
          days: ['mon'],
          at: '00:10',
          actions: [{ type: 'event', message: 'week' }],
        },
      ],
    }
    {
      await using t = await startTestHub(config, { dataDir: dir.path, now })
      const { call } = client(t)
      expect((await call('POST', '/schedules', saveLocation)).status).toBe(201)
      expect((await call('PUT', '/schedules/path-daily', config.schedules[0])).body.code).toBe(40901)
      expect((await call('DELETE', '/schedules/path-daily')).body.code).toBe(40901)
      expect((await call('POST', '/schedules', config.schedules[0])).body.code).toBe(40901)
    }
    await using t = await startTestHub(config, { dataDir: dir.path, now })
    const { call } = client(t)
    const list = await call('GET', '/schedules')
    expect(
      list.body.items.map((s: { id: string; origin: string; state: { nextRun: string } }) => [
        s.id,
        s.origin,
        s.state.nextRun,
      ]),
    ).toEqual([
      ['path-daily', 'config', '2025-01-06T00:10:00+09:00'],
      ['save-location', 'api', '2025-01-05T23:30:00+09:00'],
    ])
  })

  it('runs a schedule now with POST /schedules/{id}/run, leaving its next run where it was', async () => {
    await using t = await startTestHub({ timezone: 'Asia/Seoul' }, { now: () => T0 })
    const { call, read } = client(t)
    await call('POST', '/schedules', saveLocation)
    const started = await call('POST', '/schedules/save-location/run')
    expect(started.status).toBe(202)
    expect(started.body).toMatchObject({ scheduledAt: T0, status: 'running', reason: 'run now' })
    await t.hub.scheduler.idle()
    const page = await call('GET', '/schedules/save-location/runs')
    expect(page.body.items.map((r: { status: string; reason: string }) => [r.status, r.reason])).toEqual([
      ['ok', 'run now'],
    ])
    const view = await call('GET', '/schedules/save-location')
    expect(view.body.state).toMatchObject({ nextRun: '2025-01-05T23:30:00+09:00', lastRunAt: T0 })

    // A disabled schedule runs too when asked; a reader may not ask; an unknown one is 404.
    await call('PUT', '/schedules/save-location', { ...saveLocation, enabled: false })
    expect((await call('POST', '/schedules/save-location/run')).status).toBe(202)
    await t.hub.scheduler.idle()
    expect((await call('POST', '/schedules/save-location/run', undefined, read)).body.code).toBe(40301)
    expect((await call('POST', '/schedules/nope/run')).body.code).toBe(40401)

    // A schedule never runs twice at once: asked again while its run is going on, 409.
    const held = Promise.withResolvers<void>()
    using slow = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: async () => {
        await held.promise
        return Response.json({ ok: true })
      },
    })
    await call('POST', '/schedules', {
      id: 'slow-poll',
      kind: 'interval',
      every: '1h',
      actions: [{ type: 'poll', url: `http://127.0.0.1:${slow.port}/` }],
    })
    expect((await call('POST', '/schedules/slow-poll/run')).status).toBe(202)
    const again = await call('POST', '/schedules/slow-poll/run')
    expect([again.status, again.body.code]).toEqual([409, 40901])
    held.resolve()
    await t.hub.scheduler.idle()

    const doc = (await call('GET', '/openapi.json')).body
    expect(doc.paths['/schedules/{id}/run'].post).toMatchObject({
      operationId: 'runSchedule',
      summary: expect.stringContaining('Run a schedule'),
    })
  })

  it('runs an interval schedule with runAtStart once at start, then every interval from there', async () => {
    const polled = (id: string) => ({
      id,
      kind: 'interval',
      every: '15m',
      actions: [{ type: 'event', message: `${id} polled` }],
    })
    await using t = await startTestHub(
      { schedules: [{ ...polled('weather'), runAtStart: true }, polled('quiet')] },
      { now: () => T0 },
    )
    const { call } = client(t)
    await t.hub.scheduler.idle()
    const weather = await call('GET', '/schedules/weather/runs')
    expect(weather.body.items.map((r: { status: string; reason: string }) => [r.status, r.reason])).toEqual([
      ['ok', 'run at start'],
    ])
    expect((await call('GET', '/schedules/quiet/runs')).body.items).toEqual([])
    expect((await call('GET', '/schedules/weather')).body.state.nextRunAt).toBe(T0 + 900_000)

    // Made through the API, it runs at once too.
    const created = await call('POST', '/schedules', { ...polled('made'), runAtStart: true })
    expect(created.status).toBe(201)
    await t.hub.scheduler.idle()
    expect((await call('GET', '/schedules/made/runs')).body.items).toMatchObject([
      { status: 'ok', reason: 'run at start' },
    ])
    // Only interval schedules have it.
    const cron = await call('POST', '/schedules', { ...saveLocation, id: 'c', runAtStart: true })
    expect(cron.body.code).toBe(40002)
  })
})
