import { z } from 'zod'
import { isValidFilter } from '../broker/topic-filter.ts'
import { duration } from '../util/duration.ts'
import { jsonPathSchema } from '../util/json-path.ts'

// Control characters would corrupt logs and charts; `/`, `#` and `+` would clash with topic levels.
const isLabel = (s: string) => !/[\p{Cc}/#+]/u.test(s)

/** A metric name: what a chart is labelled with (`co`, `temperature`, `env.humidity`). */
export const metricNameSchema = z
  .string()
  .min(1)
  .max(128)
  .refine(isLabel, 'a metric name holds no control characters, "/", "#" or "+"')

/** A device label in telemetry; MQTT extraction may take it from any topic level. */
export const telemetryDeviceSchema = z
  .string()
  .min(1)
  .max(128)
  .refine(isLabel, 'a device holds no control characters, "/", "#" or "+"')

const levelIndex = () => z.number().int().min(0).max(99)

/** One `[[telemetry.mqtt]]` entry: which messages carry readings and where. */
const telemetryMqttRuleSchema = z
  .strictObject({
    topic: z
      .string()
      .refine(isValidFilter, 'not a valid MQTT topic filter')
      .describe('topic filter, e.g. sensors/+/state'),
    device: z
      .union([z.literal('username'), levelIndex()])
      .describe(
        'where the device comes from: "username" (the MQTT username) or a topic level index, 0-based',
      ),
    metrics: z
      .union([z.literal('*'), z.record(metricNameSchema, jsonPathSchema('co.value'))])
      .optional()
      .describe(
        'JSON payloads: metric name → JSON path (e.g. { co = "co.value" }), or "*" for every numeric field',
      ),
    metric: z
      .union([metricNameSchema, levelIndex()])
      .optional()
      .describe('plain numeric payloads: the metric name, or the topic level index that holds it'),
    ts: jsonPathSchema('ts or $.time')
      .optional()
      .describe('JSON path of the reading time (ISO or epoch s/ms); default arrival'),
  })
  .refine((r) => r.metrics !== undefined || r.metric !== undefined, {
    message: 'set metrics (JSON payloads) or metric (plain numeric payloads)',
  })

export type TelemetryMqttRule = z.infer<typeof telemetryMqttRuleSchema>

const DAY = 86_400_000

/** The `[telemetry]` config section. */
export const telemetryConfigSchema = z.strictObject({
  rawRetention: duration()
    .default(7 * DAY)
    .describe('how long raw readings are kept'),
  rollupRetention: duration()
    .default(730 * DAY)
    .describe('how long hourly roll-ups are kept (and minute roll-ups, unless minuteRetention is set)'),
  minuteRetention: duration()
    .optional()
    .describe('how long minute roll-ups are kept; defaults to rollupRetention'),
  pruneInterval: duration().default(3_600_000).describe('how often retention is enforced'),
  mqtt: z.array(telemetryMqttRuleSchema).default([]).describe('MQTT messages to extract readings from'),
})

export type TelemetryConfig = z.infer<typeof telemetryConfigSchema>
