import type { BrokerPlugin } from '../broker/hooks.ts'
import { topicMatches } from '../broker/topic-filter.ts'
import type { Logger } from '../log.ts'
import type { Client } from '../mqtt/types.ts'
import { type CompiledPath, compilePath } from '../util/json-path.ts'
import { readingsFromBody } from './body.ts'
import { metricNameSchema, type TelemetryMqttRule, telemetryDeviceSchema } from './config.ts'
import { numericValue, parseTimestamp, type Reading, readingTimeInRange } from './reading.ts'
import type { TelemetryWriter } from './writer.ts'

interface CompiledRule {
  filter: string
  device: 'username' | number
  metrics: '*' | Array<[string, CompiledPath]> | undefined
  metric: string | number | undefined
  ts: CompiledPath | undefined
}

/** The rules of `telemetry.mqtt`, ready to match. */
type MqttExtraction = (
  topic: string,
  payload: Buffer | string,
  username: string | undefined,
  receivedAt: number,
) => Reading[]

/**
 * Compiles `[[telemetry.mqtt]]` into a function from one message to its
 * readings. Every matching rule contributes; values that are not numbers or numeric strings are
 * skipped, since a device's status payload often mixes readings with text.
 */
function compileExtraction(rules: readonly TelemetryMqttRule[]): MqttExtraction {
  const compiled: CompiledRule[] = rules.map((r) => ({
    filter: r.topic,
    device: r.device,
    metrics:
      r.metrics === '*' || r.metrics === undefined
        ? r.metrics
        : Object.entries(r.metrics).map(
            ([name, path]) => [name, compilePath(path)] as [string, CompiledPath],
          ),
    metric: r.metric,
    ts: r.ts === undefined ? undefined : compilePath(r.ts),
  }))

  return (topic, payload, username, receivedAt) => {
    const out: Reading[] = []
    let levels: string[] | undefined
    let decoded: { plain: number | undefined; json: unknown } | undefined
    for (const rule of compiled) {
      if (!topicMatches(rule.filter, topic)) continue
      levels ??= topic.split('/')
      const device = rule.device === 'username' ? username : levels[rule.device]
      if (device === undefined || !telemetryDeviceSchema.safeParse(device).success) continue
      decoded ??= decode(payload)
      const { plain, json } = decoded
      if (plain !== undefined) {
        const metric = typeof rule.metric === 'number' ? levels[rule.metric] : rule.metric
        if (metric !== undefined && metricNameSchema.safeParse(metric).success)
          out.push({ device, metric, ts: receivedAt, value: plain })
        continue
      }
      if (json === undefined || rule.metrics === undefined) continue
      // A time the payload carries counts only in the range ingest accepts; else the time received.
      const own = rule.ts ? parseTimestamp(rule.ts(json)) : undefined
      const ts = own !== undefined && readingTimeInRange(own, receivedAt) ? own : receivedAt
      if (rule.metrics === '*') {
        const found = readingsFromBody(json, device, ts, { lenient: true, now: receivedAt })
        if (found.ok) out.push(...found.readings)
        continue
      }
      for (const [metric, path] of rule.metrics) {
        const at = path(json)
        // A path may name a source-(d) style object: its `value` is the reading.
        const value = numericValue(
          typeof at === 'object' && at !== null ? (at as { value?: unknown }).value : at,
        )
        if (value !== undefined) out.push({ device, metric, ts, value })
      }
    }
    return out
  }
}

function decode(payload: Buffer | string): { plain: number | undefined; json: unknown } {
  const text = (typeof payload === 'string' ? payload : payload.toString('utf8')).trim()
  const plain = numericValue(text)
  if (plain !== undefined || !(text.startsWith('{') || text.startsWith('[')))
    return { plain, json: undefined }
  try {
    return { plain: undefined, json: JSON.parse(text) }
  } catch {
    return { plain: undefined, json: undefined }
  }
}

interface MqttTelemetryOptions {
  rules: readonly TelemetryMqttRule[]
  writer: Pick<TelemetryWriter, 'write'>
  log: Logger
  now?: () => number
  /** The registered device a client authenticated as (certificate clients may send no username). */
  deviceOf?: (client: Client) => string | undefined
  /**
   * Topic filters under which the hub republishes readings itself (Home Assistant state topics):
   * its own messages there are never read as readings again, which would loop.
   */
  ownTopics?: readonly string[]
}

export interface MqttTelemetry extends BrokerPlugin {
  /** Replaces `telemetry.mqtt` (a config reload); the next message is read with the new rules. */
  setRules(rules: readonly TelemetryMqttRule[]): void
}

/**
 * A broker plugin that turns matching PUBLISHes into readings. It runs in the `published` hook,
 * whose promise the engine waits for, so a QoS 1 PUBACK means the readings are stored.
 */
export function createMqttTelemetry(opts: MqttTelemetryOptions): MqttTelemetry {
  const log = opts.log.child('telemetry-mqtt')
  const now = opts.now ?? Date.now
  let rules = opts.rules
  let extract = compileExtraction(rules)
  return {
    name: 'telemetry',
    setRules(next) {
      extract = compileExtraction(next)
      rules = next
    },
    published(packet, client) {
      if (!rules.length) return
      if (!client && opts.ownTopics?.some((f) => topicMatches(f, packet.topic))) return
      const username = client ? (opts.deviceOf?.(client) ?? client.username) : undefined
      const readings = extract(packet.topic, packet.payload, username, now())
      if (!readings.length) return
      return opts.writer.write(readings, 'mqtt').then(
        () => undefined,
        (err: unknown) => {
          // The message itself was routed; losing its readings must not fail the publish.
          log.error('storing MQTT readings failed', { topic: packet.topic, err })
        },
      )
    },
  }
}
