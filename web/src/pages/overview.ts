import type { AnyHubEvent } from '../../../src/protocol.ts'
import { align, createChart } from '../chart.ts'
import { type Ctx, disposer, type Page } from '../ctx.ts'
import { h, replace, section } from '../dom.ts'
import { detailText } from '../events.ts'
import { bytes, count, dateTime, duration } from '../format.ts'
import { href } from '../href.ts'
import { metric, rates, type Sample } from '../metrics.ts'
import { badge, stat } from '../widgets.ts'

const ALERT_TYPES = new Set(['alert', 'service.failed', 'delivery.dead', 'outbox.circuit', 'store.corrupt'])

/** Overview: broker figures, devices, message rates, outbox health and recent alerts. */
export function overviewPage(ctx: Ctx): Page {
  const d = disposer()
  const brokerStats = h('dl', { class: 'stats' })
  const deviceStats = h('dl', { class: 'stats' })
  const outboxStats = h('dl', { class: 'stats' })
  const alerts = h('ul', { class: 'alerts' })
  const rateNote = h('p', { class: 'muted' })
  const chart = createChart({
    label: 'MQTT messages per minute, received and sent, since this console opened',
    height: 220,
  })
  d.add(() => chart.destroy())

  const renderMetrics = (s: Sample | undefined) => {
    const v = s?.values
    replace(
      brokerStats,
      stat('Clients connected', count(metric(v, 'hearth_mqtt_clients_connected')), 'clients'),
      stat('Messages received', count(metric(v, 'hearth_mqtt_messages_received_total'))),
      stat('Messages sent', count(metric(v, 'hearth_mqtt_messages_sent_total'))),
      stat('Retained', count(metric(v, 'hearth_mqtt_retained_messages'))),
      stat('Uptime', duration(s ? Math.max(0, s.t / 1000 - metric(v, 'process_start_time_seconds')) : 0)),
      stat('Database', bytes(metric(v, 'hearth_db_size_bytes'))),
    )
    const open = metric(v, 'hearth_outbox_open_circuits')
    replace(
      outboxStats,
      stat('Pending', count(metric(v, 'hearth_outbox_depth{state="pending"}'))),
      stat('Dead letters', count(metric(v, 'hearth_outbox_depth{state="dead"}'))),
      stat('Delivered', count(metric(v, 'hearth_outbox_delivered_total'))),
      stat('Circuits', open ? badge(`${open} open`, 'bad') : badge('all closed', 'ok')),
    )
    const history = ctx.metrics.history
    const [xs, rx] = rates(history, 'hearth_mqtt_messages_received_total')
    const [, tx] = rates(history, 'hearth_mqtt_messages_sent_total')
    const points = (ys: number[]) => xs.map((x, i) => ({ ts: x * 1000, value: ys[i] ?? 0 }))
    const a = align([
      { label: 'received / min', points: points(rx) },
      { label: 'sent / min', points: points(tx) },
    ])
    chart.setData(a.xs, a.series)
    const last = a.series.map((x) => x.values.at(-1) ?? 0)
    rateNote.textContent = a.xs.length
      ? `Now ${count(last[0] ?? 0)} received and ${count(last[1] ?? 0)} sent per minute.`
      : 'Collecting: the first rates appear 10 s after the console opens.'
  }

  const loadDevices = async () => {
    const res = await ctx.attempt('Loading devices', () => ctx.api.get('/devices'))
    if (!res) return
    const online = res.items.filter((x) => x.online).length
    replace(
      deviceStats,
      stat('Online', count(online), 'online'),
      stat('Registered', count(res.items.length)),
      stat('Disabled', count(res.items.filter((x) => !x.enabled).length)),
    )
  }

  const alertItem = (e: AnyHubEvent) => {
    const text =
      ['message', 'error', 'reason', 'state'].map((k) => detailText(e, k)).find((t) => t !== undefined) ?? ''
    return h(
      'li',
      null,
      h('span', { class: 'mono muted' }, dateTime(e.ts)),
      ' ',
      h('strong', null, e.type),
      ' ',
      e.subject ? `${e.subject}: ` : '',
      text,
    )
  }
  const loadAlerts = async () => {
    const snapshot = ctx.live.snapshot.events.filter((e) => ALERT_TYPES.has(e.type))
    const stored = await ctx.attempt('Loading alerts', () =>
      ctx.api.get('/events', { type: 'alert', limit: 10 }),
    )
    const seen = new Set<number>()
    const all = [...(stored?.items ?? []), ...snapshot]
      .filter((e) => (e.id === undefined ? true : !seen.has(e.id) && seen.add(e.id)))
      .sort((a, b) => b.ts - a.ts)
      .slice(0, 10)
    replace(alerts, all.length ? all.map(alertItem) : h('li', { class: 'muted' }, 'No recent alerts.'))
  }

  d.add(ctx.metrics.onSample(renderMetrics))
  d.add(
    ctx.live.onEvent((e) => {
      if (
        e.type === 'device.online' ||
        e.type === 'device.offline' ||
        e.type === 'device.created' ||
        e.type === 'device.removed'
      ) {
        void loadDevices()
      }
      if (ALERT_TYPES.has(e.type)) {
        if (alerts.querySelector('.muted')) replace(alerts)
        alerts.prepend(alertItem(e))
        while (alerts.children.length > 10) alerts.lastElementChild?.remove()
      }
    }),
  )
  renderMetrics(ctx.metrics.latest)
  void loadDevices()
  void loadAlerts()

  const el = h(
    'div',
    null,
    h('h1', null, 'Overview'),
    h(
      'div',
      { class: 'grid' },
      section('Broker', brokerStats),
      section('Devices', deviceStats, h('p', null, h('a', { href: href('devices') }, 'All devices'))),
      section(
        'Outbox and bridges',
        outboxStats,
        h('p', null, h('a', { href: href('webhooks') }, 'Outbox and webhooks')),
      ),
    ),
    section(
      'Message rates',
      chart.el,
      rateNote,
      h('p', { class: 'hint' }, 'Sampled from /metrics every 10 s while the console is open.'),
    ),
    section('Recent alerts', alerts),
  )
  return { title: 'Overview', el, dispose: d.dispose }
}
