import { z } from 'zod'
import { badPlaceholders } from '../../actions/template.ts'
import { duration } from '../../util/duration.ts'
import { jsonPathSchema } from '../../util/json-path.ts'

const qos = z.union([z.literal(0), z.literal(1), z.literal(2)])
const path = () => jsonPathSchema('main.temp or $.weather[0].icon')
const template = () =>
  z.string().superRefine((text, ctx) => {
    for (const p of badPlaceholders(text))
      ctx.addIssue({ code: 'custom', message: `{{${p}}} is not a JSON path` })
  })

/** One value of the response published to MQTT: the value at `path`, or a rendered `template`. */
const pollPublishSchema = z
  .strictObject({
    topic: template().min(1).describe('topic; {{path}} placeholders over the response context'),
    path: path().optional().describe('publish the value at this path (strings as they are, others as JSON)'),
    template: template().optional().describe('publish this text, placeholders filled from the response'),
    qos: qos.default(0),
    retain: z.boolean().default(false),
  })
  .refine((m) => m.path === undefined || m.template === undefined, 'give path or template, not both')

/** One numeric value of the response as a telemetry reading. */
const pollTelemetrySchema = z.strictObject({
  device: z.string().min(1).describe('device id the reading belongs to'),
  metric: z.string().min(1),
  path: path().describe('a number, or a string holding one'),
})

/** An event recorded after each successful poll (e.g. a summary line). */
const pollEventSchema = z.strictObject({
  message: template().min(1),
  level: z.enum(['info', 'warning', 'critical']).default('info'),
})

/**
 * `poll`: GET a JSON API and map its fields to MQTT, telemetry and events.
 * Source (a) polled a weather API every 900 s for temperature, description, icon and air quality.
 */
export const pollActionSchema = z.strictObject({
  type: z.literal('poll'),
  url: z.url({ protocol: /^https?$/ }).describe('http(s) URL that answers JSON'),
  headers: z.record(z.string(), z.string()).default({}),
  query: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  timeout: duration().default(10_000),
  publish: z.array(pollPublishSchema).default([]),
  telemetry: z.array(pollTelemetrySchema).default([]),
  events: z.array(pollEventSchema).default([]),
})

export type PollAction = z.infer<typeof pollActionSchema>
