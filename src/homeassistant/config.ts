import { z } from 'zod'
import { isValidFilter } from '../broker/topic-filter.ts'
import { metricNameSchema } from '../telemetry/config.ts'
import { isPublishableTopic } from '../util/topic.ts'

// A prefix is whole topic levels the hub publishes under: no wildcard, no `$` (reserved for the
// broker, [MQTT-4.7.2-1]), no empty level at either end.
const topicPrefix = (example: string) =>
  z
    .string()
    .min(1)
    .refine(
      (p) => isValidFilter(p) && isPublishableTopic(p) && !p.startsWith('/') && !p.endsWith('/'),
      `a topic prefix without wildcards, "$" or a leading or trailing "/", e.g. ${example}`,
    )

/** The `[homeAssistant]` config section: MQTT discovery of the hub's telemetry. */
export const homeAssistantConfigSchema = z.strictObject({
  discovery: z
    .boolean()
    .default(false)
    .describe(
      'publish retained Home Assistant MQTT discovery configs for every telemetry metric of every device',
    ),
  discoveryPrefix: topicPrefix('homeassistant')
    .default('homeassistant')
    .describe("Home Assistant's discovery prefix"),
  stateTopicPrefix: topicPrefix('hearth/telemetry')
    .default('hearth/telemetry')
    .describe("where the hub publishes each metric's latest value, retained: <prefix>/<device>/<metric>"),
  units: z
    .record(metricNameSchema, z.string().min(1).max(32))
    .default({})
    .describe('unit_of_measurement per metric name, over the built-in ones (temperature °C, humidity %, …)'),
})

export type HomeAssistantConfig = z.infer<typeof homeAssistantConfigSchema>
