import { escapeLevel, type PublishFn } from '../../actions/publish.ts'
import type { ActionContext, ActionExecutor } from '../../actions/runner.ts'
import { asText, render } from '../../actions/template.ts'
import type { Bus } from '../../bus/bus.ts'
import { numericValue, type Reading } from '../../telemetry/reading.ts'
import { valueAt } from '../../util/json-path.ts'
import type { PollAction } from './schema.ts'

/** Larger answers are refused: a poller reads small JSON documents, not downloads. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024

export interface PollDeps {
  bus: Bus
  publish: PublishFn
  /** Stores readings (the telemetry writer); resolves once they are durable and announced. */
  record?(readings: Reading[]): Promise<unknown>
  /** The HTTP client; tests and proxies may pass their own. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>
  now?: () => number
}

/** What one poll did, kept in the schedule's run history. */
interface PollReport {
  status: number
  published: string[]
  readings: number
  events: number
  /** Mapped paths or placeholders that the response did not have. */
  missing: string[]
}

/**
 * `poll`: GET the URL and map the JSON answer to MQTT publishes, `telemetry.reading` events and
 * `action.event`s. A failure (network, timeout, status, not JSON) fails the action, which the
 * runner records as an `action.failed` event; nothing is thrown past the runner.
 */
export function createPollExecutor(deps: PollDeps): ActionExecutor<PollAction> {
  const doFetch = deps.fetch ?? ((input: string, init: RequestInit) => fetch(input, init))
  const now = deps.now ?? Date.now

  return async (action, ctx) => {
    const url = requestUrl(action)
    // The query may carry an API key (OpenWeatherMap's appid): errors name only origin and path.
    const where = `GET ${url.origin}${url.pathname}`
    const { status, body } = await get(doFetch, url, action, ctx).catch((err: unknown) => {
      throw new Error(`${where}: ${describe(err, action.timeout)}`, { cause: err })
    })
    const context = { ...ctx.data, response: body, status, url: `${url.origin}${url.pathname}` }
    const report: PollReport = { status, published: [], readings: 0, events: 0, missing: [] }
    const failures: string[] = []

    for (const m of action.publish) {
      const topic = render(m.topic, context, { escape: escapeLevel })
      report.missing.push(...topic.missing)
      let text: string | undefined
      if (m.template !== undefined) {
        const rendered = render(m.template, context)
        report.missing.push(...rendered.missing)
        text = rendered.text
      } else {
        const value = valueAt(body, m.path ?? '$')
        if (value === undefined) report.missing.push(m.path ?? '$')
        else text = asText(value)
      }
      // A topic with a hole, or nothing to say, publishes nothing rather than something wrong.
      if (text === undefined || topic.missing.length) continue
      try {
        await deps.publish({
          topic: topic.text,
          payload: Buffer.from(text, 'utf8'),
          qos: m.qos,
          retain: m.retain,
        })
        report.published.push(topic.text)
      } catch (err) {
        failures.push(`publish to ${topic.text}: ${(err as Error).message}`)
      }
    }

    const ts = now()
    const readings: Reading[] = []
    for (const t of action.telemetry) {
      const value = numericValue(valueAt(body, t.path))
      if (value === undefined) report.missing.push(t.path)
      else readings.push({ device: t.device, metric: t.metric, value, ts })
    }
    // Stored like every other reading; the writer emits `telemetry.reading` once they are durable.
    if (readings.length) {
      if (!deps.record)
        throw new Error('telemetry mappings need the telemetry store, which this runner lacks')
      await deps.record(readings)
    }
    report.readings = readings.length

    for (const e of action.events) {
      const { text, missing } = render(e.message, context)
      report.missing.push(...missing)
      deps.bus.emit(
        'action.event',
        { source: ctx.source, message: text, level: e.level },
        { subject: ctx.source },
      )
      report.events++
    }

    if (failures.length) throw new Error(`${where}: ${failures.join('; ')}`)
    return report
  }
}

function requestUrl(action: PollAction): URL {
  const url = new URL(action.url)
  for (const [k, v] of Object.entries(action.query)) url.searchParams.set(k, String(v))
  return url
}

async function get(
  doFetch: NonNullable<PollDeps['fetch']>,
  url: URL,
  action: PollAction,
  ctx: ActionContext,
): Promise<{ status: number; body: unknown }> {
  const timeout = AbortSignal.timeout(action.timeout)
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout
  const res = await doFetch(url.href, {
    method: 'GET',
    headers: { accept: 'application/json', ...action.headers },
    signal,
    redirect: 'follow',
  })
  const declared = Number(res.headers.get('content-length') ?? 0)
  if (declared > MAX_RESPONSE_BYTES) {
    await res.body?.cancel()
    throw new Error(`response of ${declared} bytes is larger than ${MAX_RESPONSE_BYTES}`)
  }
  const text = await res.text()
  if (!res.ok) throw new Error(`HTTP ${res.status}`)
  if (text.length > MAX_RESPONSE_BYTES) throw new Error(`response is larger than ${MAX_RESPONSE_BYTES} bytes`)
  try {
    return { status: res.status, body: JSON.parse(text) as unknown }
  } catch {
    throw new Error('response is not JSON')
  }
}

function describe(err: unknown, timeoutMs: number): string {
  if (err instanceof DOMException && err.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`
  if (err instanceof DOMException && err.name === 'AbortError') return 'aborted'
  return err instanceof Error ? err.message : String(err)
}
