import type { Database } from 'bun:sqlite'
import { statSync } from 'node:fs'
import { Hono, type MiddlewareHandler } from 'hono'
import { matchedRoutes } from 'hono/route'
import type { BrokerStats } from '../broker/sys.ts'
import type { ApiEnv } from './api.ts'
import type { RequireAuth } from './auth/middleware.ts'

export type Labels = Record<string, string>
type Kind = 'counter' | 'gauge'

/** One value of a metric, with its labels. */
export interface Sample {
  labels?: Labels
  value: number
}

interface Counter {
  inc(labels?: Labels, by?: number): void
}

interface Gauge {
  set(labels: Labels | undefined, value: number): void
  inc(labels?: Labels, by?: number): void
}

interface Histogram {
  observe(labels: Labels | undefined, value: number): void
}

/** Prometheus client libraries' default buckets, in seconds: 5 ms to 10 s. */
const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * A Prometheus registry for one hub. Services take it in their deps and add their own metrics:
 * `metrics.gauge('hearth_outbox_depth', '…')`, or `collect(…)` for a value read at scrape time.
 */
export interface Metrics {
  counter(name: string, help: string): Counter
  gauge(name: string, help: string): Gauge
  /** Observations counted into cumulative buckets (upper bounds, ascending; `+Inf` is implied). */
  histogram(name: string, help: string, buckets?: readonly number[]): Histogram
  /** A metric computed on every scrape (database size, broker figures). */
  collect(name: string, help: string, kind: Kind, read: () => number | Sample[]): void
  /** The text exposition format, version 0.0.4. */
  render(): string
}

interface HistogramSeries {
  labels: Labels
  /** Observations at or below each bucket's bound (not yet cumulative). */
  counts: number[]
  sum: number
  count: number
}

type Values = Map<string, { labels: Labels; value: number }>

type Family = { help: string } & (
  | { kind: Kind; values?: Values; read?: () => number | Sample[] }
  | { kind: 'histogram'; buckets: readonly number[]; series: Map<string, HistogramSeries> }
)

export function createMetrics(): Metrics {
  const families = new Map<string, Family>()

  const define = <F extends Family>(name: string, family: F): F => {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`bad metric name ${name}`)
    const existing = families.get(name)
    if (existing) {
      if (existing.kind !== family.kind) throw new Error(`metric ${name} is already a ${existing.kind}`)
      // A scrape-time reader has no stored values for a counter or gauge handle to add to.
      if ('read' in existing !== 'read' in family) throw new Error(`metric ${name} is already registered`)
      return existing as F
    }
    families.set(name, family)
    return family
  }
  const add = (values: Values, labels: Labels, by: number, replace: boolean) => {
    const key = labelText(labels)
    const cur = values.get(key)
    values.set(key, { labels, value: replace ? by : (cur?.value ?? 0) + by })
  }

  return {
    counter(name, help) {
      const { values } = define(name, { help, kind: 'counter', values: new Map() as Values })
      return { inc: (labels = {}, by = 1) => add(values, labels, by, false) }
    },
    gauge(name, help) {
      const { values } = define(name, { help, kind: 'gauge', values: new Map() as Values })
      return {
        set: (labels = {}, value) => add(values, labels, value, true),
        inc: (labels = {}, by = 1) => add(values, labels, by, false),
      }
    },
    histogram(name, help, buckets = DEFAULT_BUCKETS) {
      if (buckets.some((b, i) => i > 0 && b <= (buckets[i - 1] ?? b))) {
        throw new Error(`buckets of ${name} must ascend`)
      }
      const f = define(name, { help, kind: 'histogram', buckets: [...buckets], series: new Map() })
      return {
        observe(labels = {}, value) {
          const key = labelText(labels)
          let s = f.series.get(key)
          if (!s) {
            s = { labels, counts: f.buckets.map(() => 0), sum: 0, count: 0 }
            f.series.set(key, s)
          }
          const i = f.buckets.findIndex((b) => value <= b)
          if (i >= 0) s.counts[i] = (s.counts[i] ?? 0) + 1
          s.sum += value
          s.count += 1
        },
      }
    },
    collect(name, help, kind, read) {
      define(name, { help, kind, read })
    },
    render() {
      const out: string[] = []
      for (const [name, f] of families) {
        let lines: string[]
        try {
          lines = f.kind === 'histogram' ? histogramLines(name, f) : sampleLines(name, f)
        } catch {
          // One failing reader must not take the whole scrape down; the metric is left out.
          continue
        }
        out.push(
          `# HELP ${name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`,
          `# TYPE ${name} ${f.kind}`,
          ...lines,
        )
      }
      return `${out.join('\n')}\n`
    },
  }
}

function sampleLines(name: string, f: { values?: Values; read?: () => number | Sample[] }): string[] {
  const v = f.read ? f.read() : [...(f.values?.values() ?? [])]
  const samples = typeof v === 'number' ? [{ value: v }] : v
  return samples.map((s) => `${name}${labelText(s.labels ?? {})} ${formatValue(s.value)}`)
}

function histogramLines(
  name: string,
  f: { buckets: readonly number[]; series: Map<string, HistogramSeries> },
): string[] {
  const lines: string[] = []
  for (const s of f.series.values()) {
    let cumulative = 0
    f.buckets.forEach((bound, i) => {
      cumulative += s.counts[i] ?? 0
      lines.push(`${name}_bucket${labelText({ ...s.labels, le: formatValue(bound) })} ${cumulative}`)
    })
    lines.push(`${name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`)
    lines.push(`${name}_sum${labelText(s.labels)} ${formatValue(s.sum)}`)
    lines.push(`${name}_count${labelText(s.labels)} ${s.count}`)
  }
  return lines
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels)
  if (!entries.length) return ''
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
  return `{${entries.map(([k, v]) => `${k}="${esc(v)}"`).join(',')}}`
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Number.POSITIVE_INFINITY) return '+Inf'
  if (v === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(v)
}

/**
 * Times every request into `hearth_http_request_duration_seconds` by matched route pattern, method
 * and status; its `_count` is the number of requests. The pattern, not the path, keeps the label
 * set small (`/api/v1/tokens/:id`, never one series per id).
 */
export function httpMetricsMiddleware(metrics: Metrics): MiddlewareHandler {
  const duration = metrics.histogram(
    'hearth_http_request_duration_seconds',
    'time to answer HTTP requests, by route pattern, method and status',
  )
  return async (c, next) => {
    const start = performance.now()
    await next()
    const last = matchedRoutes(c).at(-1)
    // Only middleware matched ('*', method ALL): the request reached no route.
    const route = !last || (last.method === 'ALL' && last.path.endsWith('*')) ? '(unmatched)' : last.path
    duration.observe(
      { route, method: c.req.method, status: String(c.res.status) },
      (performance.now() - start) / 1000,
    )
  }
}

interface HubMetricsDeps {
  db: Database
  /** The broker's figures (`src/broker/sys.ts`); absent until the broker has started. */
  brokerStats?: () => BrokerStats | undefined
}

/** The hub-wide metrics read at scrape time: database size and the broker's figures. */
export function registerHubMetrics(metrics: Metrics, deps: HubMetricsDeps): void {
  metrics.collect(
    'hearth_db_size_bytes',
    'SQLite database size: pages in use plus the WAL file',
    'gauge',
    () => databaseBytes(deps.db),
  )
  const broker = deps.brokerStats
  if (!broker) return
  const read = oncePerScrape(() => {
    const s = broker()
    if (!s) throw new Error('broker not started')
    return s
  })
  collectFields(metrics, read, [
    ['hearth_mqtt_clients_connected', 'MQTT clients connected now', 'gauge', 'clientsConnected'],
    [
      'hearth_mqtt_messages_received_total',
      'PUBLISH packets accepted from clients',
      'counter',
      'messagesReceived',
    ],
    ['hearth_mqtt_messages_sent_total', 'PUBLISH packets delivered to clients', 'counter', 'messagesSent'],
    [
      'hearth_mqtt_messages_dropped_total',
      'deliveries dropped: full output or queue, expired, or too large for the client',
      'counter',
      'messagesDropped',
    ],
    [
      'hearth_mqtt_queue_overflow_total',
      'messages dropped because a persistent session queue was full',
      'counter',
      'queueOverflows',
    ],
    ['hearth_mqtt_bytes_received_total', 'MQTT bytes read from clients', 'counter', 'bytesReceived'],
    ['hearth_mqtt_bytes_sent_total', 'MQTT bytes written to clients', 'counter', 'bytesSent'],
    ['hearth_mqtt_retained_messages', 'retained messages held by the broker', 'gauge', 'retainedMessages'],
  ])
}

/** `read` at most once per scrape: the collectors of one synchronous `render()` share its result. */
function oncePerScrape<T>(read: () => T): () => T {
  let held: { value: T } | undefined
  return () => {
    if (!held) {
      held = { value: read() }
      queueMicrotask(() => {
        held = undefined
      })
    }
    return held.value
  }
}

/** Registers numeric fields of what `read` returns at scrape time, each as `[name, help, kind, field]`. */
function collectFields<T>(
  metrics: Metrics,
  read: () => T,
  fields: ReadonlyArray<[string, string, Kind, { [K in keyof T]: T[K] extends number ? K : never }[keyof T]]>,
): void {
  for (const [name, help, kind, field] of fields)
    metrics.collect(name, help, kind, () => read()[field] as number)
}

/** `page_count × page_size` of the main file plus the WAL, which holds pages not yet checkpointed. */
export function databaseBytes(db: Database): number {
  const pages = db.query('PRAGMA page_count').get() as { page_count: number }
  const size = db.query('PRAGMA page_size').get() as { page_size: number }
  let wal = 0
  try {
    if (db.filename && db.filename !== ':memory:') wal = statSync(`${db.filename}-wal`).size
  } catch {
    // No WAL file yet (or it was just checkpointed away).
  }
  return pages.page_count * size.page_size + wal
}

/** `GET /metrics`: a read token or session unless `http.metricsPublic`. */
export function createMetricsRoute(deps: { metrics: Metrics; requireAuth: RequireAuth; public: boolean }) {
  const router = new Hono<ApiEnv>()
  if (!deps.public) router.use('*', deps.requireAuth('read'))
  router.get('/', (c) =>
    c.body(deps.metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }),
  )
  return router
}

/** What `/metrics` reads of the outbox (`Outbox.stats()`). */
interface OutboxFigures {
  byState: Record<string, number>
  succeeded: number
  failedAttempts: number
  dead: number
  openCircuits: number
}

/** Outbox depth by state, deliveries, failed attempts, dead letters and open circuits, read at scrape time. */
export function registerOutboxMetrics(metrics: Metrics, readStats: () => OutboxFigures): void {
  // One count query per scrape, not one per metric.
  const stats = oncePerScrape(readStats)
  metrics.collect('hearth_outbox_depth', 'stored deliveries by state (pending, sending, dead)', 'gauge', () =>
    Object.entries(stats().byState).map(([state, value]) => ({ labels: { state }, value })),
  )
  collectFields(metrics, stats, [
    ['hearth_outbox_delivered_total', 'deliveries that succeeded since start', 'counter', 'succeeded'],
    ['hearth_outbox_failures_total', 'failed delivery attempts since start', 'counter', 'failedAttempts'],
    ['hearth_outbox_dead_total', 'deliveries moved to dead letters since start', 'counter', 'dead'],
    ['hearth_outbox_open_circuits', 'targets whose circuit breaker is not closed', 'gauge', 'openCircuits'],
  ])
}
