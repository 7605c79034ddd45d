import { z } from 'zod'
import { pushConfigSchema } from '../bridges/fcm/config.ts'
import { firebaseConfigSchema } from '../bridges/firebase/config.ts'
import { slackConfigSchema } from '../bridges/slack/config.ts'
import { targetsConfigSchema } from '../bridges/webhook/schema.ts'
import { mqttSchema } from '../broker/config.ts'
import { devicesConfigSchema } from '../devices/config.ts'
import { homeAssistantConfigSchema } from '../homeassistant/config.ts'
import { hookDeliveriesConfigSchema, hooksConfigSchema } from '../hooks/schema.ts'
import { scheduleListSchema } from '../jobs/schema.ts'
import { outboxConfigSchema } from '../outbox/config.ts'
import { ruleSchema } from '../rules/schema.ts'
import { telemetryConfigSchema } from '../telemetry/config.ts'
import { host, port } from '../util/address.ts'
import { isTimeZone } from '../util/calendar.ts'
import { duration } from '../util/duration.ts'

// Webhooks go both ways, under two keys:
// - `hooks` are inbound: a third party POSTs to /hooks/<name>, the hub verifies it and turns it into
//   an MQTT publish (and rules with a `hook` trigger act on it) (docs/webhooks.md, "Inbound hooks").
// - `webhooks` are outbound targets: an MQTT message matching a target's filter becomes an HTTP POST
//   to its URL, through the outbox (docs/webhooks.md, "Outbound webhooks").
// Both, like `rules` and `schedules`, can also be made through the API; an id in this file wins
// (docs/definitions.md).

/** A secret string; printed masked by `check-config`. Its sibling `<key>File` reads it from a file. */
export const secret = () => z.string().min(1).meta({ secret: true })

const httpSchema = z.strictObject({
  host: host().default('0.0.0.0').describe('address the HTTP server binds to'),
  port: port().default(8080).describe('API, webhooks, ingest, console, MQTT over WebSocket'),
  maxBodyBytes: z
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024)
    .describe('larger request bodies get 413'),
  corsOrigins: z.array(z.string()).default([]).describe('origins allowed by CORS; empty turns CORS off'),
  metricsPublic: z
    .boolean()
    .default(false)
    .describe('serve /metrics without a token (otherwise a read-scope token or session is needed)'),
  sessionTtl: duration()
    .default(7 * 86_400_000)
    .describe('how long a console login lasts'),
  tls: z
    .strictObject({
      cert: z.string().optional().describe('PEM certificate: serve HTTPS instead of HTTP'),
      key: z.string().optional().describe('PEM private key of the certificate'),
    })
    .prefault({}),
})

export const configSchema = z.strictObject({
  dataDir: z.string().min(1).default('./data').describe('where hearth.db and generated files live'),
  timezone: z
    .string()
    .default('UTC')
    .refine((tz) => isTimeZone(tz), { message: 'not an IANA time zone' })
    .describe('default time zone of schedules (IANA name, e.g. Asia/Seoul)'),
  schedules: scheduleListSchema
    .default([])
    .describe('schedules defined in this file ([[schedules]] tables; see docs/schedules.md)'),
  rules: z
    .array(ruleSchema)
    .default([])
    .refine((rules) => new Set(rules.map((r) => r.id)).size === rules.length, 'rule ids must be unique')
    .describe('rules defined in this file ([[rules]] tables; see docs/rules.md)'),
  log: z
    .strictObject({
      level: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
      format: z
        .enum(['auto', 'json', 'pretty'])
        .default('auto')
        .describe('auto: pretty on a terminal, JSON lines otherwise (then every stdout line is JSON)'),
    })
    .prefault({}),
  mqtt: mqttSchema.prefault({}),
  http: httpSchema.prefault({}),
  events: z
    .strictObject({
      retention: duration()
        .default(30 * 86_400_000)
        .describe('how long the event log keeps events'),
    })
    .prefault({}),
  hooks: hooksConfigSchema,
  hookDeliveries: hookDeliveriesConfigSchema.prefault({}),
  webhooks: targetsConfigSchema,
  outbox: outboxConfigSchema.prefault({}),
  telemetry: telemetryConfigSchema.prefault({}),
  push: pushConfigSchema.prefault({}),
  slack: slackConfigSchema.prefault({}),
  firebase: firebaseConfigSchema.prefault({}),
  devices: devicesConfigSchema.prefault({}),
  homeAssistant: homeAssistantConfigSchema.prefault({}),
  admin: z
    .strictObject({
      password: secret()
        .optional()
        .describe('password of the admin user created on first start (random when unset)'),
      passwordFile: z.string().optional().describe('read admin.password from this file'),
    })
    .prefault({}),
})

export type Config = z.infer<typeof configSchema>
