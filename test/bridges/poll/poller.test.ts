import { describe, expect, it } from 'bun:test'
import mqtt from 'mqtt'
import { actionSchema } from '../../../src/catalog/actions.ts'
import type { HubEvent } from '../../../src/protocol.ts'
import { startTestHub } from '../../helpers/hub.ts'
import { waitFor } from '../../helpers/wait.ts'

const T0 = Date.parse('2025-01-06T00:00:00Z')

/**
 * A weather API shaped like OpenWeatherMap's (current weather and air pollution), which source
 * (a) polled every 900 s. `mode` switches it into failing ways.
 */
function weatherApi() {
  const state = {
    mode: 'ok' as 'ok' | 'down' | 'html' | 'hang',
    requests: [] as URL[],
    apiKeys: [] as string[],
  }
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const url = new URL(req.url)
      state.requests.push(url)
      state.apiKeys.push(req.headers.get('x-api-key') ?? '')
      if (state.mode === 'down') return new Response('maintenance', { status: 503 })
      if (state.mode === 'html')
        return new Response('<html>oops</html>', { headers: { 'content-type': 'text/html' } })
      if (state.mode === 'hang') await new Promise(() => {})
      if (url.searchParams.get('appid') !== 'KEY')
        return Response.json({ cod: 401, message: 'Invalid API key' }, { status: 401 })
      if (url.pathname === '/data/2.5/weather')
        return Response.json({
          weather: [{ id: 800, main: 'Clear', description: 'clear sky', icon: '01n' }],
          main: { temp: -3.5, humidity: '41' },
          name: 'Seoul',
        })
      if (url.pathname === '/data/2.5/air_pollution')
        return Response.json({ list: [{ main: { aqi: 2 }, components: { pm2_5: 12.3, pm10: 20.1 } }] })
      return new Response('not found', { status: 404 })
    },
  })
  return { base: `http://127.0.0.1:${server.port}`, state, [Symbol.dispose]: () => server.stop(true) }
}

function weatherSchedule(base: string) {
  const query = { appid: 'KEY', lat: 37.57, lon: 126.98, units: 'metric' }
  return {
    id: 'weather',
    kind: 'interval',
    every: '900s',
    actions: [
      {
        type: 'poll',
        url: `${base}/data/2.5/weather`,
        query,
        headers: { 'x-api-key': 'header-key' },
        publish: [
          { topic: 'home/weather/temperature', path: 'main.temp', retain: true },
          { topic: 'home/weather/description', path: '$.weather[0].description', retain: true },
          { topic: 'home/weather/icon', path: 'weather.0.icon', retain: true },
          { topic: 'home/weather/{{response.name}}', template: '{"temp": {{response.main.temp}}}', qos: 1 },
        ],
        telemetry: [
          { device: 'weather', metric: 'temperature', path: 'main.temp' },
          { device: 'weather', metric: 'humidity', path: 'main.humidity' },
        ],
        events: [
          { message: '{{response.name}}: {{response.weather.0.description}}, {{response.main.temp}} °C' },
        ],
      },
      {
        type: 'poll',
        url: `${base}/data/2.5/air_pollution`,
        query,
        publish: [{ topic: 'home/weather/air', path: 'list[0].main.aqi', retain: true }],
        telemetry: [{ device: 'weather', metric: 'pm2_5', path: 'list[0].components.pm2_5' }],
      },
    ],
  }
}

describe('HTTP pollers', () => {
  it('polls a weather API every 900 s and maps fields to MQTT, telemetry and events (source a)', async () => {
    using api = weatherApi()
    let now = T0
    await using t = await startTestHub(
      {
        mqtt: { allowAnonymous: true, anonymousAcl: [{ pattern: 'home/#', access: 'read' }] },
        schedules: [weatherSchedule(api.base)],
      },
      { now: () => now },
    )
    const readings: HubEvent<'telemetry.reading'>['detail'][] = []
    t.hub.bus.on('test', 'telemetry.reading', (e) => readings.push(e.detail))
    expect(t.hub.scheduler.get('weather')!.nextRunAt).toBe(T0 + 900_000)

    now = T0 + 900_000
    expect(t.hub.scheduler.tick().fired).toEqual([{ id: 'weather', at: T0 + 900_000, late: false }])
    await t.hub.scheduler.idle()

    expect(api.state.requests.map((u) => `${u.pathname}?${u.searchParams}`)).toEqual([
      '/data/2.5/weather?appid=KEY&lat=37.57&lon=126.98&units=metric',
      '/data/2.5/air_pollution?appid=KEY&lat=37.57&lon=126.98&units=metric',
    ])
    expect(api.state.apiKeys[0]).toBe('header-key')
    expect(readings).toEqual([
      { device: 'weather', metric: 'temperature', value: -3.5, ts: T0 + 900_000, source: 'poll' },
      { device: 'weather', metric: 'humidity', value: 41, ts: T0 + 900_000, source: 'poll' },
      { device: 'weather', metric: 'pm2_5', value: 12.3, ts: T0 + 900_000, source: 'poll' },
    ])
    // Stored before they were announced: the poller writes through the telemetry writer.
    const stored = t.hub.db
      .query(
        `SELECT s.metric AS metric, r.value AS value FROM telemetry_raw r JOIN telemetry_series s ON s.id = r.series
         WHERE s.device = 'weather' ORDER BY s.metric`,
      )
      .all()
    expect(stored).toEqual([
      { metric: 'humidity', value: 41 },
      { metric: 'pm2_5', value: 12.3 },
      { metric: 'temperature', value: -3.5 },
    ])
    const [run] = t.hub.scheduler.runs('weather', 1)
    expect(run).toMatchObject({
      status: 'ok',
      results: [{ ok: true, detail: { status: 200, readings: 2, events: 1, missing: [] } }, { ok: true }],
    })

    // A device that connects later finds the retained values.
    const client = await mqtt.connectAsync(t.mqttUrl, { reconnectPeriod: 0 })
    const got = new Map<string, string>()
    client.on('message', (topic, payload) => got.set(topic, payload.toString()))
    await client.subscribeAsync('home/weather/#', { qos: 1 })
    try {
      await waitFor(() => got.size === 4, { what: 'retained weather values' })
      expect(Object.fromEntries(got)).toEqual({
        'home/weather/temperature': '-3.5',
        'home/weather/description': 'clear sky',
        'home/weather/icon': '01n',
        'home/weather/air': '2',
      })
    } finally {
      await client.endAsync()
    }
    const summary = await waitFor(() =>
      t.hub.db.query(`SELECT detail FROM events WHERE type = 'action.event'`).get(),
    )
    expect(JSON.parse((summary as { detail: string }).detail)).toEqual({
      source: 'schedule:weather',
      message: 'Seoul: clear sky, -3.5 °C',
      level: 'info',
    })
  })

  it('turns an API that is down, not JSON or too slow into a failed action and an event, and carries on', async () => {
    using api = weatherApi()
    await using t = await startTestHub()
    const poll = (timeout = '10s') =>
      actionSchema.parse({
        type: 'poll',
        url: `${api.base}/data/2.5/weather`,
        query: { appid: 'KEY' },
        timeout,
        telemetry: [
          { device: 'weather', metric: 'temperature', path: 'main.temp' },
          { device: 'weather', metric: 'rain', path: 'rain.1h' },
        ],
      })
    const run = (timeout?: string) => t.hub.actions.run(poll(timeout), { source: 'test:poll' })

    api.state.mode = 'down'
    const down = await run()
    api.state.mode = 'html'
    const html = await run()
    api.state.mode = 'hang'
    const slow = await run('200ms')
    api.state.mode = 'ok'
    const fine = await run()

    const where = `GET ${api.base}/data/2.5/weather`
    expect([down, html, slow].map((r) => (r.ok ? 'ok' : r.error))).toEqual([
      `${where}: HTTP 503`,
      `${where}: response is not JSON`,
      `${where}: no answer within 200 ms`,
    ])
    // The API key in the query stays out of errors and events; an absent field is reported, not fatal.
    expect(fine).toMatchObject({ ok: true, detail: { readings: 1, missing: ['rain.1h'] } })
    const failed = t.hub.db
      .query(`SELECT detail FROM events WHERE type = 'action.failed' ORDER BY id`)
      .all() as Array<{ detail: string }>
    expect(failed.map((f) => JSON.parse(f.detail).error)).toEqual([
      `${where}: HTTP 503`,
      `${where}: response is not JSON`,
      `${where}: no answer within 200 ms`,
    ])
    expect(failed.some((f) => f.detail.includes('KEY'))).toBe(false)
    expect(t.fatal).toBeUndefined()
  })
})
