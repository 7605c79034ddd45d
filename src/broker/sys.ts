import type { Logger } from '../log.ts'
import type { Client, Subscription } from '../mqtt/types.ts'
import type { Service } from '../runtime/service.ts'
import { attachedBroker, type BrokerPlugin } from './hooks.ts'
import { topicMatches } from './topic-filter.ts'

/** The broker's figures, as `$SYS/broker/…` topics and Prometheus metrics. */
export interface BrokerStats {
  uptimeSeconds: number
  clientsConnected: number
  /** PUBLISH packets accepted from clients. */
  messagesReceived: number
  /** PUBLISH packets handed to clients. */
  messagesSent: number
  /** Deliveries dropped: a receiver's buffer or queue was full, the message expired or was too large. */
  messagesDropped: number
  /** Of those, messages dropped because a persistent session's queue was full. */
  queueOverflows: number
  /** Every MQTT byte read from and written to clients. */
  bytesReceived: number
  bytesSent: number
  retainedMessages: number
  /** Over the last minute, measured from the samples taken each interval (since start when younger). */
  loadMessagesReceivedPerMinute: number
  loadMessagesSentPerMinute: number
  loadBytesReceivedPerMinute: number
  loadBytesSentPerMinute: number
}

interface SysStatsOptions {
  log: Logger
  /** ms between two publications of `$SYS/broker/…`. */
  interval: number
  version: string
  now?: () => number
}

/** Broker statistics: a plugin that answers new `$SYS` subscribers and a service that publishes. */
export interface SysStats extends Service {
  readonly plugin: BrokerPlugin
  stats(): BrokerStats
}

interface Sample {
  t: number
  received: number
  sent: number
  bytesIn: number
  bytesOut: number
}

const WINDOW_MS = 60_000

const isDollar = (s: Subscription) => s.filter.startsWith('$')

export function createSysStats(opts: SysStatsOptions): SysStats {
  const log = opts.log.child('sys')
  const now = opts.now ?? Date.now
  let startedAt = now()
  let samples: Sample[] = []
  const broker = attachedBroker()
  let timer: ReturnType<typeof setInterval> | undefined

  function counts(s = broker.current?.stats()): Omit<Sample, 't'> {
    return {
      received: s?.messagesReceived ?? 0,
      sent: s?.messagesSent ?? 0,
      bytesIn: s?.bytesReceived ?? 0,
      bytesOut: s?.bytesSent ?? 0,
    }
  }

  function stats(): BrokerStats {
    const t = now()
    const since = baseline(t)
    const s = broker.current?.stats()
    const c = counts(s)
    return {
      uptimeSeconds: Math.floor((t - startedAt) / 1000),
      clientsConnected: s?.clientsConnected ?? 0,
      messagesReceived: c.received,
      messagesSent: c.sent,
      messagesDropped: s?.droppedMessages ?? 0,
      queueOverflows: s?.queueOverflows ?? 0,
      bytesReceived: c.bytesIn,
      bytesSent: c.bytesOut,
      retainedMessages: s?.retained ?? 0,
      loadMessagesReceivedPerMinute: c.received - since.received,
      loadMessagesSentPerMinute: c.sent - since.sent,
      loadBytesReceivedPerMinute: c.bytesIn - since.bytesIn,
      loadBytesSentPerMinute: c.bytesOut - since.bytesOut,
    }
  }

  /** Topic → payload, with the names Mosquitto uses so existing dashboards read them. */
  function topics(): [string, string][] {
    const s = stats()
    return [
      ['$SYS/broker/version', `hearth ${opts.version}`],
      ['$SYS/broker/uptime', `${s.uptimeSeconds} seconds`],
      ['$SYS/broker/clients/connected', String(s.clientsConnected)],
      ['$SYS/broker/messages/received', String(s.messagesReceived)],
      ['$SYS/broker/messages/sent', String(s.messagesSent)],
      ['$SYS/broker/publish/messages/dropped', String(s.messagesDropped)],
      ['$SYS/broker/bytes/received', String(s.bytesReceived)],
      ['$SYS/broker/bytes/sent', String(s.bytesSent)],
      ['$SYS/broker/retained messages/count', String(s.retainedMessages)],
      ['$SYS/broker/load/messages/received/1min', String(s.loadMessagesReceivedPerMinute)],
      ['$SYS/broker/load/messages/sent/1min', String(s.loadMessagesSentPerMinute)],
      ['$SYS/broker/load/bytes/received/1min', String(s.loadBytesReceivedPerMinute)],
      ['$SYS/broker/load/bytes/sent/1min', String(s.loadBytesSentPerMinute)],
    ]
  }

  /** The newest sample at least a minute old; the first one while the hub is younger. */
  function baseline(t: number): Sample {
    let base = samples[0] ?? { t, received: 0, sent: 0, bytesIn: 0, bytesOut: 0 }
    for (const s of samples) if (s.t <= t - WINDOW_MS) base = s
    return base
  }

  function sample() {
    const t = now()
    samples.push({ t, ...counts() })
    const base = samples.indexOf(baseline(t))
    if (base > 0) samples = samples.slice(base)
  }

  function publishAll() {
    const b = broker.current
    if (!b?.running) return
    sample()
    for (const [topic, payload] of topics()) {
      b.publish({ topic, payload, qos: 0, retain: false }).catch((err: unknown) =>
        log.debug('$SYS publish failed', { topic, err }),
      )
    }
  }

  /**
   * $SYS topics are not retained (they would be rewritten to the database every interval); a
   * new subscriber gets the current values at once instead, as if they were.
   */
  function onSubscribe(client: Client, subs: readonly Subscription[]) {
    // Runs for every SUBSCRIBE: nothing is allocated unless a filter asks for `$` topics.
    const b = broker.current
    if (!b || !subs.some(isDollar)) return
    const wanted = subs.filter(isDollar)
    for (const [topic, payload] of topics()) {
      if (!wanted.some((s) => topicMatches(s.filter, topic))) continue
      b.sendTo(client.id, { topic, payload: Buffer.from(payload), qos: 0, retain: true })
    }
  }

  const plugin: BrokerPlugin = {
    name: 'sys',
    subscribed: onSubscribe,
    attach: broker.attach,
    detach: broker.detach,
  }

  return {
    name: 'broker-sys',
    plugin,
    stats,
    start() {
      if (timer) return
      startedAt = now()
      samples = []
      sample()
      timer = setInterval(publishAll, opts.interval)
      timer.unref?.()
    },
    stop() {
      clearInterval(timer)
      timer = undefined
    },
  }
}
