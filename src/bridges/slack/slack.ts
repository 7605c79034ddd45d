import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { ActionExecutor } from '../../actions/runner.ts'
import { render } from '../../actions/template.ts'
import type { Bus } from '../../bus/bus.ts'
import type { Logger } from '../../log.ts'
import type { Outbox } from '../../outbox/outbox.ts'
import { type DeliveryHandler, Outcome } from '../../outbox/types.ts'
import type { OutboxBridge } from '../outbox-action.ts'
import type { SlackAction } from './action.ts'
import { createAlertSources } from './alerts.ts'
import type { SlackAlert } from './blocks.ts'
import { createSlackClient, type Destination, type SlackClient } from './client.ts'
import type { SlackConfig } from './config.ts'
import { createDispatcher, type PostResult, type QueuedSlackMessage, SLACK_KIND } from './dispatcher.ts'

interface SlackOptions {
  config: SlackConfig
  bus: Bus
  log: Logger
  outbox: Pick<Outbox, 'enqueue' | 'register'>
  /** Called per message Slack accepted (the hub counts them for `/metrics`). */
  onSent?(destination: string): void
  /** Called per alert or `slack` action with what became of it: queued, duplicate or dead. */
  onPost?(destination: string, outcome: PostResult): void
  /** The real client from config when absent (tests may pass one with its own fetch). */
  client?: SlackClient
  readFile?: (path: string) => string
  now?: () => number
}

/** Slack: alerts and `slack` actions, rate-limited, coalesced, deduplicated, through the outbox. */
export interface Slack extends OutboxBridge<SlackAction> {
  /** Whether any destination is configured. */
  readonly enabled: boolean
  /** Queues one alert for a destination (default: the alerts destination). */
  post(alert: SlackAlert, destination?: string): PostResult
  /** Destinations Slack said are gone, with why. */
  dead(): Record<string, string>
  /** The configured destinations' names. */
  destinations(): string[]
  /**
   * Takes new `slack.*` settings (a config reload): destinations, the bot token, alerts and pacing
   * apply to the next messages; a destination whose settings changed is no longer latched dead.
   * Throws, changing nothing, when a `webhookUrlFile` cannot be read.
   */
  reload(config: SlackConfig): void
}

const OWNER = 'slack'

export function createSlack(opts: SlackOptions): Slack {
  const { bus } = opts
  let config = opts.config
  const log = opts.log.child('slack')
  const now = opts.now ?? Date.now
  const readFile = opts.readFile ?? ((path: string) => readFileSync(resolve(path), 'utf8').trim())
  let configured = configuredDestinations(config)
  let destinations = new Map<string, Destination>()
  // Resolved at start: reading a URL file is I/O, and a missing file should fail the start loudly.
  const resolveAll = (list: typeof configured) => {
    const out = new Map<string, Destination>()
    for (const d of list) {
      const url = d.webhookUrl ?? (d.webhookUrlFile ? readFile(d.webhookUrlFile) : undefined)
      out.set(
        d.name,
        url ? { name: d.name, kind: 'webhook', url } : { name: d.name, kind: 'bot', channel: d.channel! },
      )
    }
    return out
  }
  let alertsTo = alertsDestination(config, configured)
  const latched = new Map<string, string>()
  const lastAttempt = new Map<string, number>()
  const clientFor = (c: SlackConfig) =>
    opts.client ?? createSlackClient({ apiUrl: c.apiUrl, botToken: c.botToken, timeoutMs: c.timeout, now })
  let client = clientFor(config)

  const dispatcher = createDispatcher({
    log,
    outbox: opts.outbox,
    minIntervalMs: config.minInterval,
    dedupWindowMs: config.dedupWindow,
    now,
    deadReason: (d) => latched.get(d),
    onPost: (destination, result) => opts.onPost?.(destination, result),
  })
  const alertSources = (c: SlackConfig) =>
    createAlertSources({
      bus,
      config: c.alerts,
      now,
      post: (alert) => {
        if (alertsTo) dispatcher.post(alertsTo, alert)
      },
    })
  let sources = alertSources(config)

  const latch = (destination: string, reason: string, status: number | null) => {
    if (latched.has(destination)) return
    latched.set(destination, reason)
    log.error('Slack destination is dead; nothing more is sent to it', { destination, reason })
    bus.emit('slack.dead', { destination, reason, status }, { subject: destination })
    // Source `slack`: recorded and shown in the console, never sent to Slack itself.
    bus.emit('alert', {
      source: 'slack',
      severity: 'critical',
      message: `Slack destination ${destination} is dead: ${reason}`,
    })
  }

  // A destination named on the fly by a `slack` action's channel (bot token only).
  const channelDestination = (channel: string): string => {
    const name = `#${channel.replace(/^#/, '')}`
    if (!destinations.has(name)) destinations.set(name, { name, kind: 'bot', channel })
    return name
  }

  const handler: DeliveryHandler = {
    // One message at a time per destination: Slack allows about one a second.
    concurrency: () => 1,
    async deliver(entry, signal) {
      // A `#channel` of a slack action is made on the fly; after a restart, again on its first message.
      const dest =
        destinations.get(entry.target) ??
        (entry.target.startsWith('#') && config.botToken
          ? destinations.get(channelDestination(entry.target.slice(1)))
          : undefined)
      if (!dest) return Outcome.dead(`no Slack destination ${entry.target} in the config`)
      const dead = latched.get(dest.name)
      if (dead) return Outcome.dead(`destination is dead: ${dead}`)
      const wait = (lastAttempt.get(dest.name) ?? Number.NEGATIVE_INFINITY) + config.minInterval - now()
      if (wait > 0) await delay(wait, signal)
      if (signal.aborted) return Outcome.retryLater('the hub is stopping')
      const message = entry.payload as QueuedSlackMessage
      const outcome = await client.post(dest, { text: message.text, blocks: message.blocks }, signal)
      lastAttempt.set(dest.name, now())
      dispatcher.attempted(dest.name)
      if (outcome.status === 'dead') latch(dest.name, outcome.reason, outcome.httpStatus ?? null)
      if (outcome.status === 'ok') {
        opts.onSent?.(dest.name)
        bus.emit(
          'slack.sent',
          { destination: dest.name, alerts: message.alerts ?? 1 },
          { subject: dest.name },
        )
      }
      return outcome
    },
  }

  const executor: ActionExecutor<SlackAction> = (action, ctx) => {
    const destination = action.target ?? (action.channel ? botChannel(action.channel) : alertsTo)
    if (!destination || !destinations.has(destination))
      throw new Error(
        action.target ? `no Slack destination ${action.target}` : 'no Slack destination configured',
      )
    const { text, missing } = render(action.text, ctx.data ?? {})
    const result = dispatcher.post(destination, {
      text,
      severity: 'info',
      source: ctx.source,
      markup: true,
      at: now(),
    })
    if (result === 'dead')
      throw new Error(`Slack destination ${destination} is dead: ${latched.get(destination)}`)
    return { destination, result, ...(missing.length ? { missing } : {}) }
  }
  const botChannel = (channel: string) => {
    if (!config.botToken) throw new Error('a slack action with a channel needs slack.botToken')
    return channelDestination(channel)
  }

  let running = false
  return {
    name: 'slack',
    get enabled() {
      return configured.length > 0
    },
    executor,
    handler,
    post(alert, destination) {
      const to = destination ?? alertsTo
      if (!to) return 'dead'
      return dispatcher.post(to, alert)
    },
    dead: () => Object.fromEntries(latched),
    destinations: () => configured.map((d) => d.name),
    reload(next) {
      const nextConfigured = configuredDestinations(next)
      // Reading URL files can throw: before anything changes.
      const resolved = running ? resolveAll(nextConfigured) : destinations
      const before = new Map(configured.map((d) => [d.name, JSON.stringify(d)]))
      configured = nextConfigured
      config = next
      destinations = resolved
      alertsTo = alertsDestination(next, nextConfigured)
      client = clientFor(next)
      dispatcher.setPacing(next.minInterval, next.dedupWindow)
      for (const d of nextConfigured) if (before.get(d.name) !== JSON.stringify(d)) latched.delete(d.name)
      if (!running) return
      sources.stop()
      sources = alertSources(next)
      if (nextConfigured.length) sources.start()
    },
    start() {
      if (running) return
      destinations = resolveAll(configured)
      opts.outbox.register(SLACK_KIND, handler)
      const settled = (e: { detail: { kind: string; id: number } }) => {
        if (e.detail.kind === SLACK_KIND) dispatcher.settled(e.detail.id)
      }
      bus.on(OWNER, 'delivery.succeeded', settled)
      bus.on(OWNER, 'delivery.dead', settled)
      if (configured.length) sources.start()
      dispatcher.start()
      running = true
    },
    async stop() {
      if (!running) return
      running = false
      sources.stop()
      bus.off(OWNER)
      await dispatcher.flushAll()
      dispatcher.stop()
    },
  }
}

/** `slack.webhookUrl`/`channel` as the destination "default", then `slack.destinations`. */
function configuredDestinations(config: SlackConfig) {
  return [
    ...(config.webhookUrl || config.webhookUrlFile || config.channel
      ? [
          {
            name: 'default',
            webhookUrl: config.webhookUrl,
            webhookUrlFile: config.webhookUrlFile,
            channel: config.channel,
          },
        ]
      : []),
    ...config.destinations,
  ]
}

function alertsDestination(config: SlackConfig, configured: ReadonlyArray<{ name: string }>) {
  return (
    config.alerts.destination ??
    (configured.some((d) => d.name === 'default') ? 'default' : configured[0]?.name)
  )
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}
