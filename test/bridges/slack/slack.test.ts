import { afterAll, describe, expect, it } from 'bun:test'
import type { ActionInput } from '../../../src/catalog/actions.ts'
import { actionSchema } from '../../../src/catalog/actions.ts'
import { silentLogger } from '../../../src/log.ts'
import { createRuntime } from '../../../src/runtime/runtime.ts'
import type { ServiceContext } from '../../../src/runtime/service.ts'
import { createToken } from '../../../src/store/tokens.ts'
import { startTestHub, type TestHub } from '../../helpers/hub.ts'
import { waitFor } from '../../helpers/wait.ts'
import { SlackAnswers, startSlackPeer } from './peer.ts'

const T0 = Date.UTC(2025, 5, 2, 3, 0, 0)
const iso = (ms: number) => new Date(ms).toISOString()

const run = (
  t: TestHub,
  action: Omit<ActionInput & { type: 'slack' }, 'type'>,
  data: Record<string, unknown> = {},
) => t.hub.actions.run(actionSchema.parse({ type: 'slack', ...action }), { source: 'rule:test', data })

describe('Slack: incoming webhooks and chat.postMessage through the outbox', () => {
  const peer = startSlackPeer()
  afterAll(() => peer[Symbol.asyncDispose]())

  it('posts a slack action as Block Kit with a plain-text fallback', async () => {
    await using t = await startTestHub({ slack: { webhookUrl: peer.webhook('blocks') } }, { now: () => T0 })
    const result = await run(
      t,
      { text: 'Door {{door}} opened <https://cam.local/1|camera>' },
      { door: 'front' },
    )
    expect(result).toMatchObject({ ok: true, detail: { destination: 'default', result: 'queued' } })
    const [req] = await waitFor(() => peer.toWebhook('blocks').length === 1 && peer.toWebhook('blocks'))
    expect(req!.body).toEqual({
      text: 'Door front opened <https://cam.local/1|camera>',
      blocks: [
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: ':information_source: Door front opened <https://cam.local/1|camera>',
          },
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: `rule:test · ${iso(T0)}` }] },
      ],
    })
    // The hub's own alerts are text, not markup: &, < and > are escaped as Slack asks.
    t.hub.bus.emit('alert', { source: 'sensor <pi>', severity: 'critical', message: 'no2 >= 88 & rising' })
    await waitFor(() => peer.toWebhook('blocks').length === 2, { timeoutMs: 5000 })
    expect(peer.toWebhook('blocks')[1]!.body).toEqual({
      text: 'no2 &gt;= 88 &amp; rising',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: ':rotating_light: no2 &gt;= 88 &amp; rising' } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: `sensor &lt;pi&gt; · ${iso(T0)}` }] },
      ],
    })
  })

  it('sends at most one message a second per destination and coalesces a burst into one message', async () => {
    await using t = await startTestHub({
      slack: {
        webhookUrl: peer.webhook('burst'),
        destinations: [{ name: 'other', webhookUrl: peer.webhook('burst-other') }],
      },
    })
    for (const i of [1, 2, 3, 4, 5]) await run(t, { text: `reading ${i}` })
    await run(t, { text: 'elsewhere', target: 'other' })
    const [first, second] = await waitFor(
      () => peer.toWebhook('burst').length === 2 && peer.toWebhook('burst'),
      {
        timeoutMs: 5000,
      },
    )
    expect(first!.body.text).toBe('reading 1')
    expect(second!.body.text).toBe(
      ':information_source: 4 messages:\n• reading 2\n• reading 3\n• reading 4\n• reading 5',
    )
    expect(second!.body.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: '4 messages', emoji: true },
    })
    expect(second!.body.blocks.length).toBe(1 + 4 * 2)
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(990)
    // Another destination has its own pace: it is not held back behind the first one's second.
    const [other] = peer.toWebhook('burst-other')
    expect(other!.at).toBeLessThan(second!.at)
  })

  it('sends an identical alert once within the dedup window, and alerts below minSeverity not at all', async () => {
    let now = T0
    await using t = await startTestHub(
      { slack: { webhookUrl: peer.webhook('dedup'), dedupWindow: '10m' } },
      { now: () => now },
    )
    const alert = { source: 'sensor', severity: 'warning', message: 'no2 high in the kitchen' } as const
    t.hub.bus.emit('alert', alert)
    t.hub.bus.emit('alert', alert)
    t.hub.bus.emit('alert', { source: 'sensor', severity: 'info', message: 'just so you know' })
    await waitFor(() => peer.toWebhook('dedup').length === 1)
    now += 5 * 60_000
    t.hub.bus.emit('alert', alert)
    now += 5 * 60_000
    t.hub.bus.emit('alert', alert)
    await waitFor(() => peer.toWebhook('dedup').length === 2)
    expect(peer.toWebhook('dedup').map((r) => r.body.text)).toEqual([
      'no2 high in the kitchen',
      'no2 high in the kitchen',
    ])
    // The peer has the request before the hub has its answer and counts the message.
    const metrics = await waitFor(async () => {
      const text = await (await fetch(`${t.url}/metrics`, { headers: adminHeaders(t) })).text()
      return text.includes('hearth_slack_messages_total{destination="default"} 2') && text
    })
    expect(metrics).toContain('hearth_slack_alerts_total{destination="default",outcome="duplicate"} 2')
  })

  it('honours Retry-After on 429 and gathers what arrives meanwhile into the next message', async () => {
    await using t = await startTestHub({ slack: { webhookUrl: peer.webhook('limited') } })
    peer.behaveWebhook('limited', (_r, nth) =>
      nth === 1 ? SlackAnswers.rateLimited(1) : SlackAnswers.webhookOk(),
    )
    const failed: unknown[] = []
    t.hub.bus.on('test', 'delivery.failed', (e) => failed.push(e.detail))
    await run(t, { text: 'first' })
    await waitFor(() => peer.toWebhook('limited').length === 1)
    await run(t, { text: 'second' })
    await run(t, { text: 'third' })
    const reqs = await waitFor(() => peer.toWebhook('limited').length === 3 && peer.toWebhook('limited'), {
      timeoutMs: 8000,
    })
    expect(failed).toEqual([
      expect.objectContaining({ kind: 'slack', target: 'default', status: 429, retryInMs: 1000 }),
    ])
    expect(reqs.map((r) => r.body.text)).toEqual([
      'first',
      'first',
      ':information_source: 2 messages:\n• second\n• third',
    ])
    expect(reqs[1]!.at - reqs[0]!.at).toBeGreaterThanOrEqual(990)
    expect(reqs[2]!.at - reqs[1]!.at).toBeGreaterThanOrEqual(990)
  })

  it('latches a destination as dead on 404 no_service, 410 channel_is_archived and 403 invalid_token', async () => {
    await using t = await startTestHub({
      http: { metricsPublic: true },
      slack: {
        webhookUrl: peer.webhook('alive'),
        destinations: [
          { name: 'g404', webhookUrl: peer.webhook('g404') },
          { name: 'g410', webhookUrl: peer.webhook('g410') },
          { name: 'g403', webhookUrl: peer.webhook('g403') },
        ],
      },
    })
    peer.behaveWebhook('g404', () => SlackAnswers.noService())
    peer.behaveWebhook('g410', () => SlackAnswers.channelIsArchived())
    peer.behaveWebhook('g403', () => SlackAnswers.invalidToken())
    const dead: unknown[] = []
    t.hub.bus.on('test', 'slack.dead', (e) => dead.push(e.detail))
    for (const target of ['g404', 'g410', 'g403']) await run(t, { text: 'hello', target })
    await waitFor(() => dead.length === 3)
    expect(dead).toEqual(
      expect.arrayContaining([
        { destination: 'g404', reason: 'HTTP 404: no_service', status: 404 },
        { destination: 'g410', reason: 'HTTP 410: channel_is_archived', status: 410 },
        { destination: 'g403', reason: 'HTTP 403: invalid_token', status: 403 },
      ]),
    )
    expect(await run(t, { text: 'again', target: 'g404' })).toMatchObject({
      ok: false,
      error: 'Slack destination g404 is dead: HTTP 404: no_service',
    })
    expect(peer.toWebhook('g404').length).toBe(1)
    await run(t, { text: 'still here' })
    await waitFor(() => peer.toWebhook('alive').length === 1)
    const metrics = await (await fetch(`${t.url}/metrics`)).text()
    expect(metrics).toContain('hearth_slack_destination_dead{destination="g404"} 1')
    expect(metrics).toContain('hearth_slack_destination_dead{destination="default"} 0')
  })

  it('posts with chat.postMessage and the bot token: ratelimited is retried, channel_not_found latches', async () => {
    await using t = await startTestHub({
      slack: {
        apiUrl: peer.apiUrl,
        botToken: peer.botToken,
        channel: 'C0HOME',
        destinations: [{ name: 'gone', channel: 'C0GONE' }],
      },
    })
    peer.behaveChannel('C0HOME', (_r, nth) =>
      nth === 1
        ? SlackAnswers.apiRateLimited(1)
        : Response.json({ ok: true, channel: 'C0HOME', ts: '1700000000.000100', message: { text: 'x' } }),
    )
    peer.behaveChannel('C0GONE', () => SlackAnswers.apiError('channel_not_found'))
    const dead: unknown[] = []
    t.hub.bus.on('test', 'slack.dead', (e) => dead.push(e.detail))
    await run(t, { text: 'washer done' })
    await run(t, { text: 'to nowhere', target: 'gone' })
    await run(t, { text: 'to a channel by name', channel: '#alerts' })
    const home = await waitFor(() => peer.toChannel('C0HOME').length === 2 && peer.toChannel('C0HOME'), {
      timeoutMs: 5000,
    })
    expect(home[1]!.authorization).toBe(`Bearer ${peer.botToken}`)
    expect(home[1]!.body).toMatchObject({ channel: 'C0HOME', text: 'washer done', blocks: expect.any(Array) })
    expect(home[1]!.at - home[0]!.at).toBeGreaterThanOrEqual(990)
    await waitFor(() => dead.length === 1 && peer.toChannel('#alerts').length === 1)
    expect(dead).toEqual([{ destination: 'gone', reason: 'channel_not_found', status: null }])
  })
})

describe('Slack alerts from the hub', () => {
  const peer = startSlackPeer()
  afterAll(() => peer[Symbol.asyncDispose]())

  it('sends one message per incident of a service the supervisor keeps restarting, not one per retry', async () => {
    let now = T0
    await using t = await startTestHub(
      {
        http: { metricsPublic: true },
        slack: { webhookUrl: peer.webhook('incidents'), alerts: { incidentQuiet: '10m' } },
      },
      { now: () => now },
    )
    let failStarts = 3
    let ctx: ServiceContext | undefined
    const flaky = {
      name: 'rabbitmq-bridge',
      start(c: ServiceContext) {
        ctx = c
        if (failStarts-- > 0) throw new Error('cannot reach 192.168.0.10:5672')
      },
      stop() {},
    }
    const restarted: number[] = []
    t.hub.bus.on('test', 'service.restarted', (e) => restarted.push(e.detail.attempt))
    const runtime = createRuntime({
      log: silentLogger(),
      bus: t.hub.bus,
      entries: [{ service: flaky, restart: true }],
      onFatal: () => {},
      backoff: { initialMs: 5, maxMs: 20, stableMs: 60_000 },
      now: () => now,
    })
    try {
      await runtime.start()
      await waitFor(() => restarted.length === 1)
      await waitFor(() => peer.toWebhook('incidents').length === 1)
      // Up for longer than incidentQuiet: the next failure is a new incident; its retries are not.
      now += 11 * 60_000
      ctx!.fail(new Error('connection reset by peer'))
      await waitFor(() => restarted.length === 2)
      ctx!.fail(new Error('connection reset by peer'))
      await waitFor(() => restarted.length === 3)
      await waitFor(() => peer.toWebhook('incidents').length === 2)
    } finally {
      await runtime.stop()
    }
    const metrics = await (await fetch(`${t.url}/metrics`)).text()
    expect(metrics).toContain('hearth_slack_alerts_total{destination="default",outcome="queued"} 2')
    const [first, second] = peer.toWebhook('incidents')
    expect(first!.body.text).toBe(
      'Service rabbitmq-bridge failed: cannot reach 192.168.0.10:5672\nThe supervisor restarts it with back-off (attempt 1, next in 5 ms).',
    )
    expect(first!.body.blocks[0]).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: ':rotating_light: *Service rabbitmq-bridge failed*\ncannot reach 192.168.0.10:5672\nThe supervisor restarts it with back-off (attempt 1, next in 5 ms).',
      },
    })
    expect(second!.body.text).toStartWith('Service rabbitmq-bridge failed: connection reset by peer')
  })

  it('summarises dead letters of other bridges over a window into one message', async () => {
    using gone = goneReceiver()
    await using t = await startTestHub({
      slack: { webhookUrl: peer.webhook('summary'), alerts: { summaryWindow: '300ms' } },
    })
    for (const i of [1, 2, 3])
      await t.hub.actions.run(actionSchema.parse({ type: 'webhook', url: gone.url, body: `{"n": ${i}}` }), {
        source: 'rule:test',
      })
    const [req] = await waitFor(() => peer.toWebhook('summary').length === 1 && peer.toWebhook('summary'))
    expect(req!.body.text).toBe(
      `Delivery failures: • action-webhook:${gone.url}: 3 dead letters (last: target refused: HTTP 410: gone)`,
    )
    expect(req!.body.blocks[0]).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `:warning: *Delivery failures*\n• action-webhook:${gone.url}: 3 dead letters (last: target refused: HTTP 410: gone)`,
      },
    })
  })
})

describe('Slack: pollers', () => {
  const peer = startSlackPeer()
  afterAll(() => peer[Symbol.asyncDispose]())

  it('alerts when a poller starts failing, once, and again after it recovered and failed anew', async () => {
    const api = { ok: false }
    using weather = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: () => (api.ok ? Response.json({ temp: 3 }) : new Response('maintenance', { status: 503 })),
    })
    const url = `http://127.0.0.1:${weather.port}/weather`
    await using t = await startTestHub({
      // No dedup window: the second alert is the same text as the first, and is wanted here.
      slack: { webhookUrl: peer.webhook('pollers'), dedupWindow: '0', alerts: { summaryWindow: '200ms' } },
      schedules: [{ id: 'weather', kind: 'interval', every: '900s', actions: [{ type: 'poll', url }] }],
    })
    const poll = async () => {
      t.hub.scheduler.runNow('weather')
      await t.hub.scheduler.idle()
    }
    const line = `• poller:weather: polls failing (GET ${url}: HTTP 503)`
    await poll()
    await poll()
    await waitFor(() => peer.toWebhook('pollers').length === 1)
    api.ok = true
    await poll()
    api.ok = false
    await poll()
    await waitFor(() => peer.toWebhook('pollers').length === 2)
    expect(peer.toWebhook('pollers').map((r) => r.body.text)).toEqual([
      `Delivery failures: ${line}`,
      `Delivery failures: ${line}`,
    ])
  })
})

function goneReceiver() {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: () => new Response('gone', { status: 410 }),
  })
  return { url: `http://127.0.0.1:${server.port}/hook`, [Symbol.dispose]: () => void server.stop(true) }
}

function adminHeaders(t: TestHub) {
  return { authorization: `Bearer ${createToken(t.hub.db, { name: 'metrics', scope: 'read' }).secret}` }
}
