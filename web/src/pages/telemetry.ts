import type { TelemetryLatestView } from '../../../src/protocol.ts'
import { align, createChart } from '../chart.ts'
import { type Ctx, disposer, type Page } from '../ctx.ts'
import { field, h, replace, section, select, uid } from '../dom.ts'
import { dateTime } from '../format.ts'
import { href } from '../href.ts'

const SPANS: Record<string, number> = {
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
  month: 30 * 86_400_000,
}
/** Points asked per series: about one per pixel of a wide chart. */
const POINTS = 600

type Series = { label: string; metric: string; points: Array<{ ts: number; value: number }> }

/** Telemetry: a chart per device, several metrics on it, a range picker, live at the right edge. */
export function telemetryPage(ctx: Ctx, params: string[]): Page {
  const d = disposer()
  let latest: TelemetryLatestView['items'] = []
  let series: Series[] = []
  let loading = 0

  const deviceSelect = select({ name: 'device' }, [])
  const metricsBox = h('div', { class: 'checks' })
  const rangeSelect = select(
    { name: 'range' },
    [
      ['hour', 'Last hour'],
      ['day', 'Last day'],
      ['week', 'Last week'],
      ['month', 'Last month'],
      ['custom', 'Custom'],
    ],
    'day',
  )
  const fromInput = h('input', { type: 'datetime-local', name: 'from' })
  const toInput = h('input', { type: 'datetime-local', name: 'to' })
  const custom = h('div', { class: 'row', hidden: true }, field('From', fromInput), field('To', toInput))
  const chart = createChart({ label: 'Telemetry chart of the chosen device and metrics' })
  const values = h('dl', { class: 'stats', 'aria-live': 'polite' })
  const status = h('p', { class: 'muted', role: 'status' })
  d.add(() => chart.destroy())

  const chosenMetrics = () =>
    [...metricsBox.querySelectorAll<HTMLInputElement>('input[type=checkbox]')]
      .filter((c) => c.checked)
      .map((c) => c.value)
  const window_ = (): [number, number] => {
    if (rangeSelect.value === 'custom') {
      const from = Date.parse(fromInput.value)
      const to = Date.parse(toInput.value)
      return [Number.isFinite(from) ? from : Date.now() - SPANS.day!, Number.isFinite(to) ? to : Date.now()]
    }
    const to = Date.now()
    return [to - (SPANS[rangeSelect.value] ?? SPANS.day!), to]
  }

  const draw = () => {
    const [from, to] = window_()
    const a = align(
      series.map((s) => ({ label: s.label, points: s.points.filter((p) => p.ts >= from && p.ts <= to) })),
    )
    chart.setData(a.xs, a.series)
    chart.setRange(from, to)
    replace(
      values,
      series.map((s) => {
        const last = s.points[s.points.length - 1]
        return h(
          'div',
          null,
          h('dt', null, s.label),
          h('dd', { 'data-metric': s.metric }, last ? String(last.value) : '—'),
          h('small', { class: 'hint' }, last ? dateTime(last.ts) : 'no data in range'),
        )
      }),
    )
  }

  const load = async () => {
    const device = deviceSelect.value
    const metrics = chosenMetrics()
    if (!device || metrics.length === 0) {
      series = []
      draw()
      status.textContent = device
        ? 'Choose at least one metric.'
        : 'No telemetry yet: POST readings to /ingest/<device> or publish them over MQTT.'
      return
    }
    const [from, to] = window_()
    const ticket = ++loading
    status.textContent = 'Loading…'
    const loaded = await ctx.attempt('Loading telemetry', () =>
      Promise.all(
        metrics.map((metric) => ctx.api.get('/telemetry', { device, metric, from, to, points: POINTS })),
      ),
    )
    if (!loaded || ticket !== loading) return
    series = loaded.map((s) => ({
      label: s.metric,
      metric: s.metric,
      points: s.points.map((p) => ({ ts: p.ts, value: p.value })),
    }))
    const n = loaded.reduce((sum, s) => sum + s.points.length, 0)
    status.textContent = `${n} points of ${metrics.join(', ')} for ${device}, ${dateTime(from)} to ${dateTime(to)} (${loaded[0]?.source ?? 'raw'} values).`
    el.dataset.loaded = String(n)
    draw()
  }

  const renderMetrics = (preselect?: string[]) => {
    const device = deviceSelect.value
    const metrics = [...new Set(latest.filter((x) => x.device === device).map((x) => x.metric))].sort()
    const checked = preselect ?? chosenMetrics()
    replace(
      metricsBox,
      metrics.map((m, i) => {
        const id = uid('metric')
        const box = h('input', {
          type: 'checkbox',
          id,
          value: m,
          checked: checked.length ? checked.includes(m) : i === 0,
        })
        box.addEventListener('change', () => void load())
        return h('label', { for: id }, box, m)
      }),
    )
  }

  const loadLatest = async (preDevice?: string, preMetrics?: string[]) => {
    const res = await ctx.attempt('Loading devices with telemetry', () => ctx.api.get('/telemetry/latest'))
    if (!res) return
    latest = res.items
    const devices = [...new Set(latest.map((x) => x.device))].sort()
    const keep = preDevice ?? deviceSelect.value
    replace(
      deviceSelect,
      devices.map((x) => h('option', { value: x, selected: x === keep }, x)),
    )
    renderMetrics(preMetrics)
    await load()
  }

  deviceSelect.addEventListener('change', () => {
    renderMetrics([])
    history.replaceState(null, '', href('telemetry', deviceSelect.value))
    void load()
  })
  rangeSelect.addEventListener('change', () => {
    custom.hidden = rangeSelect.value !== 'custom'
    if (rangeSelect.value === 'custom' && !fromInput.value) {
      const local = (ms: number) =>
        new Date(ms - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16)
      fromInput.value = local(Date.now() - SPANS.day!)
      toInput.value = local(Date.now())
    }
    void load()
  })
  fromInput.addEventListener('change', () => void load())
  toInput.addEventListener('change', () => void load())

  // Live: readings of the shown device and metrics join the chart at once; the window slides with time.
  d.add(
    ctx.live.onEvent((e) => {
      if (e.type !== 'telemetry.reading') return
      const r = e.detail
      if (!latest.some((x) => x.device === r.device && x.metric === r.metric)) {
        latest.push({ device: r.device, metric: r.metric, ts: r.ts, value: r.value })
        if (!deviceSelect.value || r.device === deviceSelect.value) void loadLatest(r.device)
        return
      }
      if (rangeSelect.value === 'custom' || r.device !== deviceSelect.value) return
      const s = series.find((x) => x.metric === r.metric)
      if (!s) return
      s.points.push({ ts: r.ts, value: r.value })
      s.points.sort((a, b) => a.ts - b.ts)
      draw()
    }),
  )
  d.interval(() => {
    if (rangeSelect.value !== 'custom' && series.length) draw()
  }, 15_000)

  const preMetrics = params[1] ? params[1].split(',') : undefined
  void loadLatest(params[0], preMetrics)

  const el = h(
    'div',
    null,
    h('h1', null, 'Telemetry'),
    h(
      'div',
      { class: 'card' },
      h('div', { class: 'row' }, field('Device', deviceSelect), field('Range', rangeSelect)),
      custom,
      h('fieldset', null, h('legend', null, 'Metrics'), metricsBox),
    ),
    section('Chart', status, chart.el, h('h3', null, 'Latest values'), values),
  )
  return { title: 'Telemetry', el, dispose: d.dispose }
}
