import type { Duplex } from 'node:stream'
import type { Aedes, AedesPublishPacket, Client, Subscription } from 'aedes'
import type { Logger } from '../log.ts'
import type { Service } from '../runtime/service.ts'
import { addClientTap, headerBytes } from './client-tap.ts'
import type { BrokerPlugin } from './hooks.ts'
import { topicMatches } from './topic-filter.ts'

/** The broker's figures, as `$SYS/broker/…` topics and (later) Prometheus metrics. */
export interface BrokerStats {
  uptimeSeconds: number
  clientsConnected: number
  /** PUBLISH packets accepted from clients. */
  messagesReceived: number
  /** PUBLISH packets handed to clients. */
  messagesSent: number
  /** QoS 0 deliveries dropped because a receiver's queue was full. */
  messagesDropped: number
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

export interface SysStatsOptions {
  log: Logger
  /** ms between two publications of `$SYS/broker/…`. */
  interval: number
  version: string
  /** Dropped QoS 0 deliveries, counted by the limits plugin. */
  dropped?: () => number
  now?: () => number
}

/** Broker statistics (issue 3 point 10): a plugin that counts and a service that publishes. */
export interface SysStats extends Service {
  /** Goes last in the plugin list, so it counts only what is delivered. */
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

/** The part of Aedes' persistence (typed loosely by Aedes) read at start. */
interface RetainedSource {
  createRetainedStreamCombi(patterns: string[]): AsyncIterable<{ topic: string }>
}

export function createSysStats(opts: SysStatsOptions): SysStats {
  const log = opts.log.child('sys')
  const now = opts.now ?? Date.now
  const counts = { received: 0, sent: 0, bytesIn: 0, bytesOut: 0 }
  const retained = new Set<string>()
  let startedAt = now()
  let samples: Sample[] = []
  let aedes: Aedes | undefined
  let untap: (() => void) | undefined
  let timer: ReturnType<typeof setInterval> | undefined

  // Shared by every connection (no closure each): the write it wraps rides on the socket.
  function countingWrite(this: CountedConn, chunk: unknown, ...rest: unknown[]) {
    // mqtt-packet writes a packet in several chunks, strings among them.
    counts.bytesOut += typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Uint8Array).length
    return (this[WRITE] as (...a: unknown[]) => boolean).call(this, chunk, ...rest)
  }

  function countWrites(conn: CountedConn) {
    conn[WRITE] = conn.write
    conn.write = countingWrite as Duplex['write']
  }

  function onPublish(packet: AedesPublishPacket, client: Client | null) {
    if (client) counts.received++
    if (!packet.retain || packet.topic.startsWith('$SYS/')) return
    if (packet.payload.length === 0) retained.delete(packet.topic)
    else retained.add(packet.topic)
  }

  async function loadRetained(a: Aedes) {
    try {
      const persistence = (a as unknown as { persistence: RetainedSource }).persistence
      for await (const p of persistence.createRetainedStreamCombi(['#'])) retained.add(p.topic)
    } catch (err) {
      log.warn('could not count retained messages', { err })
    }
  }

  function stats(): BrokerStats {
    const t = now()
    const since = baseline(t)
    return {
      uptimeSeconds: Math.floor((t - startedAt) / 1000),
      clientsConnected: aedes?.connectedClients ?? 0,
      messagesReceived: counts.received,
      messagesSent: counts.sent,
      messagesDropped: opts.dropped?.() ?? 0,
      bytesReceived: counts.bytesIn,
      bytesSent: counts.bytesOut,
      retainedMessages: retained.size,
      loadMessagesReceivedPerMinute: counts.received - since.received,
      loadMessagesSentPerMinute: counts.sent - since.sent,
      loadBytesReceivedPerMinute: counts.bytesIn - since.bytesIn,
      loadBytesSentPerMinute: counts.bytesOut - since.bytesOut,
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
    samples.push({ t, ...counts })
    const base = samples.indexOf(baseline(t))
    if (base > 0) samples = samples.slice(base)
  }

  function publishAll() {
    const a = aedes
    if (!a || a.closed) return
    sample()
    for (const [topic, payload] of topics()) {
      a.publish(
        { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: false, dup: false },
        (err) => {
          if (err) log.debug('$SYS publish failed', { topic, err })
        },
      )
    }
  }

  /**
   * $SYS topics are not retained (they would be rewritten to the database every interval); a
   * new subscriber gets the current values at once instead, as if they were.
   */
  function onSubscribe(subs: Subscription[], client: Client) {
    // Refused filters come with qos 128 (SUBACK failure).
    const wanted = subs.filter((s) => (s.qos as number) !== 128 && s.topic.startsWith('$'))
    if (wanted.length === 0) return
    for (const [topic, payload] of topics()) {
      if (!wanted.some((s) => topicMatches(s.topic, topic))) continue
      // Aedes calls the callback unconditionally: without one the process dies.
      client.publish(
        { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: true, dup: false },
        noop,
      )
    }
  }

  const plugin: BrokerPlugin = {
    name: 'sys',
    attach(a) {
      aedes = a
      a.on('publish', onPublish)
      a.on('subscribe', onSubscribe)
      untap = addClientTap(
        a,
        {
          connection: (_client, conn) => countWrites(conn),
          packet(_client, packet) {
            counts.bytesIn += packet.length + headerBytes(packet.length)
          },
        },
        log,
      )
      void loadRetained(a)
    },
    detach() {
      aedes?.off('publish', onPublish)
      aedes?.off('subscribe', onSubscribe)
      untap?.()
      untap = undefined
      aedes = undefined
    },
    authorizeForward(_client, packet) {
      counts.sent++
      return packet
    },
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

function noop() {}

const WRITE = Symbol('uncounted write')
type CountedConn = Duplex & { [WRITE]?: Duplex['write'] }
