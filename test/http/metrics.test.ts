import { beforeAll, describe, expect, it } from 'bun:test'
import mqtt from 'mqtt'
import { ensurePromtool, PROMTOOL } from '../../scripts/prereqs.ts'
import { createMetrics, databaseBytes } from '../../src/http/metrics.ts'
import { createToken } from '../../src/store/tokens.ts'
import { VERSION } from '../../src/version.ts'
import { startTestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'

/** `name{labels} value` lines of a scrape, by series. */
function series(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    out.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return out
}

describe('metrics registry', () => {
  it('renders counters, gauges and scrape-time values in the Prometheus text format', () => {
    const m = createMetrics()
    const depth = m.gauge('hearth_outbox_depth', 'deliveries waiting, by target')
    const failures = m.counter('hearth_outbox_failures_total', 'failed delivery attempts')
    depth.set({ target: 'slack' }, 3)
    depth.set({ target: 'slack' }, 2)
    failures.inc({ target: 'a"b\\c\nd' })
    failures.inc({ target: 'a"b\\c\nd' }, 2)
    m.collect('hearth_answer', 'the answer', 'gauge', () => 42)
    m.collect('hearth_broken', 'throws', 'gauge', () => {
      throw new Error('nope')
    })
    expect(m.render()).toBe(
      [
        '# HELP hearth_outbox_depth deliveries waiting, by target',
        '# TYPE hearth_outbox_depth gauge',
        'hearth_outbox_depth{target="slack"} 2',
        '# HELP hearth_outbox_failures_total failed delivery attempts',
        '# TYPE hearth_outbox_failures_total counter',
        'hearth_outbox_failures_total{target="a\\"b\\\\c\\nd"} 3',
        '# HELP hearth_answer the answer',
        '# TYPE hearth_answer gauge',
        'hearth_answer 42',
        '',
      ].join('\n'),
    )
  })

  it('renders a histogram as cumulative buckets, a sum and a count per label set', () => {
    const m = createMetrics()
    const h = m.histogram('hearth_x_seconds', 'x', [0.1, 1])
    h.observe({ route: '/a' }, 0.05)
    h.observe({ route: '/a' }, 0.5)
    h.observe({ route: '/a' }, 3)
    expect(m.render()).toBe(
      [
        '# HELP hearth_x_seconds x',
        '# TYPE hearth_x_seconds histogram',
        'hearth_x_seconds_bucket{route="/a",le="0.1"} 1',
        'hearth_x_seconds_bucket{route="/a",le="1"} 2',
        'hearth_x_seconds_bucket{route="/a",le="+Inf"} 3',
        'hearth_x_seconds_sum{route="/a"} 3.55',
        'hearth_x_seconds_count{route="/a"} 3',
        '',
      ].join('\n'),
    )
  })

  it('refuses to register one name as two kinds', () => {
    const m = createMetrics()
    m.counter('hearth_x_total', 'x')
    expect(() => m.gauge('hearth_x_total', 'x')).toThrow()
    m.collect('hearth_y_total', 'y', 'counter', () => 1)
    expect(() => m.counter('hearth_y_total', 'y')).toThrow()
  })
})

describe('/metrics', () => {
  it('needs a read token or session by default', async () => {
    await using t = await startTestHub()
    const anonymous = await fetch(`${t.url}/metrics`)
    expect(anonymous.status).toBe(401)
    expect(((await anonymous.json()) as { code: number }).code).toBe(40101)
    const { secret } = createToken(t.hub.db, { name: 'prometheus', scope: 'read' })
    const res = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${secret}` } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toStartWith('text/plain; version=0.0.4')
  })

  it('is open to anyone with http.metricsPublic', async () => {
    await using t = await startTestHub({ http: { metricsPublic: true } })
    expect((await fetch(`${t.url}/metrics`)).status).toBe(200)
  })

  it('times HTTP requests in a histogram by route pattern, method and status', async () => {
    await using t = await startTestHub({ http: { metricsPublic: true } })
    const { secret } = createToken(t.hub.db, { name: 'p', scope: 'admin' })
    const headers = { authorization: `Bearer ${secret}` }
    await fetch(`${t.url}/api/v1/tokens/tok_a`, { headers })
    await fetch(`${t.url}/api/v1/tokens/tok_b`, { headers })
    await fetch(`${t.url}/api/v1/tokens`)
    await fetch(`${t.url}/no/such/page`)
    const s = series(await (await fetch(`${t.url}/metrics`)).text())
    const count = (labels: string) => s.get(`hearth_http_request_duration_seconds_count{${labels}}`)
    expect(count('route="/api/v1/tokens/:id",method="GET",status="404"')).toBe(2)
    expect(count('route="/api/v1/tokens",method="GET",status="401"')).toBe(1)
    expect(count('route="(unmatched)",method="GET",status="404"')).toBe(1)
    expect(
      s.get(
        'hearth_http_request_duration_seconds_bucket{route="/api/v1/tokens/:id",method="GET",status="404",le="+Inf"}',
      ),
    ).toBe(2)
    expect(
      s.get('hearth_http_request_duration_seconds_sum{route="/api/v1/tokens/:id",method="GET",status="404"}'),
    ).toBeGreaterThan(0)
    expect([...s.keys()].some((k) => k.includes('tok_a'))).toBe(false)
  })

  it('reports the outbox depth by state and its failures', async () => {
    await using t = await startTestHub({ http: { metricsPublic: true } })
    const s = series(await (await fetch(`${t.url}/metrics`)).text())
    expect(s.get('hearth_outbox_depth{state="pending"}')).toBe(0)
    expect(s.get('hearth_outbox_depth{state="dead"}')).toBe(0)
    expect(s.get('hearth_outbox_failures_total')).toBe(0)
    expect(s.get('hearth_outbox_open_circuits')).toBe(0)
  })

  it('reports broker clients, messages and bytes, and the database size', async () => {
    await using t = await startTestHub({
      http: { metricsPublic: true },
      mqtt: { allowAnonymous: true, anonymousAcl: [{ pattern: '#', access: 'readwrite' }] },
    })
    const client = await mqtt.connectAsync(t.mqttUrl, { reconnectPeriod: 0 })
    try {
      await client.publishAsync('a/b', 'hello', { qos: 1 })
      const scrape = async () => series(await (await fetch(`${t.url}/metrics`)).text())
      await waitFor(async () => ((await scrape()).get('hearth_mqtt_messages_received_total') ?? 0) >= 1)
      const s = await scrape()
      expect(s.get('hearth_mqtt_clients_connected')).toBe(1)
      expect(s.get('hearth_mqtt_bytes_received_total')).toBeGreaterThan(0)
      expect(s.get('hearth_mqtt_bytes_sent_total')).toBeGreaterThan(0)
      const pages = t.hub.db
        .query(
          'SELECT (SELECT page_count FROM pragma_page_count) * (SELECT page_size FROM pragma_page_size) AS n',
        )
        .get() as { n: number }
      expect(s.get('hearth_db_size_bytes')).toBeGreaterThanOrEqual(pages.n)
      expect(databaseBytes(t.hub.db)).toBeGreaterThan(pages.n)
    } finally {
      await client.endAsync()
    }
  })
})

describe('/metrics conventions', () => {
  beforeAll(() => {
    const problem = ensurePromtool((line) => process.stderr.write(line))
    if (problem) throw new Error(`promtool is needed for these tests: ${problem}`)
  })

  it('passes promtool check metrics with every module loaded and traffic seen', async () => {
    await using t = await startTestHub({
      http: { metricsPublic: true },
      mqtt: { allowAnonymous: true, anonymousAcl: [{ pattern: '#', access: 'readwrite' }] },
      slack: { webhookUrl: 'http://127.0.0.1:9/slack' },
      firebase: {
        rtdb: { url: 'http://127.0.0.1:9', mirror: [{ event: 'device.online', path: 'x', template: 'on' }] },
      },
    })
    const client = await mqtt.connectAsync(t.mqttUrl, { reconnectPeriod: 0 })
    try {
      await client.publishAsync('a/b', 'hello', { qos: 1 })
    } finally {
      await client.endAsync()
    }
    await fetch(`${t.url}/api/v1/devices`)
    await fetch(`${t.url}/healthz`)
    const text = await (await fetch(`${t.url}/metrics`)).text()
    const proc = Bun.spawn([PROMTOOL, 'check', 'metrics'], { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' })
    proc.stdin.write(text)
    await proc.stdin.end()
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ])
    expect(out + err).toBe('')
    expect(code).toBe(0)
  })

  it('exports the standard process metrics, the build and the start time, and no uptime gauge', async () => {
    await using t = await startTestHub({ http: { metricsPublic: true } })
    const before = Date.now() / 1000
    const s = series(await (await fetch(`${t.url}/metrics`)).text())
    expect(s.get('process_cpu_seconds_total')).toBeGreaterThan(0)
    expect(s.get('process_resident_memory_bytes')).toBeGreaterThan(1_000_000)
    expect(s.get('process_virtual_memory_bytes')).toBeGreaterThan(s.get('process_resident_memory_bytes') ?? 0)
    expect(s.get('process_open_fds')).toBeGreaterThan(3)
    expect(s.get('process_max_fds')).toBeGreaterThanOrEqual(s.get('process_open_fds') ?? 0)
    const started = s.get('process_start_time_seconds') ?? 0
    expect(started).toBeLessThanOrEqual(before)
    expect(started).toBeGreaterThan(before - process.uptime() - 1)
    expect(s.get(`hearth_build_info{version="${VERSION}",bun="${Bun.version}"}`)).toBe(1)
    expect([...s.keys()].filter((k) => k.includes('uptime'))).toEqual([])
  })

  it('has no negative sentinel values: a Firebase part that has not tried yet has no sample', async () => {
    await using t = await startTestHub({
      http: { metricsPublic: true },
      // A mirror writes only when its event happens, so this part has not reached Firebase yet.
      firebase: {
        rtdb: { url: 'http://127.0.0.1:9', mirror: [{ event: 'device.online', path: 'x', template: 'on' }] },
      },
    })
    const text = await (await fetch(`${t.url}/metrics`)).text()
    expect(text).toContain('# TYPE hearth_firebase_up gauge')
    const s = series(text)
    expect([...s].filter(([, v]) => v < 0)).toEqual([])
    expect([...s.keys()].filter((k) => k.startsWith('hearth_firebase_up'))).toEqual([])
  })
})

describe('/readyz', () => {
  it('answers ready while the database is writable and the broker runs, and 503 once the broker closed', async () => {
    await using t = await startTestHub()
    const ready = await fetch(`${t.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'ok', checks: { database: true, broker: true } })
    await t.hub.broker.stop()
    const down = await fetch(`${t.url}/readyz`)
    expect(down.status).toBe(503)
    expect(await down.json()).toEqual({ status: 'unavailable', checks: { database: true, broker: false } })
  })
})
