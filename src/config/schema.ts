import { z } from 'zod'
import { pushConfigSchema } from '../bridges/fcm/config.ts'
import { firebaseConfigSchema } from '../bridges/firebase/config.ts'
import { slackConfigSchema } from '../bridges/slack/config.ts'
import { targetsConfigSchema } from '../bridges/webhook/schema.ts'
import { devicesConfigSchema } from '../devices/config.ts'
import { homeAssistantConfigSchema } from '../homeassistant/config.ts'
import { hookDeliveriesConfigSchema, hooksConfigSchema } from '../hooks/schema.ts'
import { scheduleListSchema } from '../jobs/schema.ts'
import { outboxConfigSchema } from '../outbox/config.ts'
import { ruleSchema } from '../rules/schema.ts'
import { telemetryConfigSchema } from '../telemetry/config.ts'
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

const port = () => z.number().int().min(0).max(65535)
const host = () => z.string().min(1)

export const aclRuleSchema = z.strictObject({
  pattern: z.string().min(1),
  access: z.enum(['read', 'write', 'readwrite', 'deny']),
})

export const mqttSchema = z.strictObject({
  host: host().default('0.0.0.0').describe('address the MQTT listeners bind to'),
  port: port().default(1883).describe('MQTT over TCP'),
  allowAnonymous: z
    .boolean()
    .default(false)
    .describe('let clients connect without credentials (they get only anonymousAcl)'),
  maxPacketSize: z
    .number()
    .int()
    .min(64)
    .max(268_435_455)
    .default(256 * 1024)
    .describe('bytes; larger packets disconnect the client'),
  maxTopicLevels: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(32)
    .describe('topics with more levels are refused'),
  disconnectOnDenied: z
    .boolean()
    .default(false)
    .describe('disconnect a client whose PUBLISH the ACL denies (otherwise it is dropped)'),
  maxConnections: z
    .number()
    .int()
    .min(1)
    .default(10_000)
    .describe('concurrent MQTT connections, all listeners'),
  connectRatePerAddress: z.number().int().min(1).default(50).describe('connects per second from one address'),
  connectTimeout: duration()
    .default(10_000)
    .describe('a connection that sends no CONNECT within this time is closed'),
  maxPendingConnectionsPerAddress: z
    .number()
    .int()
    .min(1)
    .default(64)
    .describe('connections from one address not yet authenticated; beyond it they are closed'),
  maxQueuedMessages: z
    .number()
    .int()
    .min(1)
    .default(1000)
    .describe('messages queued for one persistent session; beyond it new ones are dropped'),
  maxQueuedBytes: z
    .number()
    .int()
    .min(1024)
    .default(16 * 1024 * 1024)
    .describe('payload bytes queued for one persistent session, like maxQueuedMessages'),
  receiveMaximum: z
    .number()
    .int()
    .min(1)
    .max(65_535)
    .default(1024)
    .describe('QoS 1/2 messages a client may have unacknowledged (MQTT 5 Receive Maximum)'),
  topicAliasMaximum: z
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(64)
    .describe('topic aliases a client may set (MQTT 5); 0 turns them off'),
  serverKeepAlive: z
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(0)
    .describe('seconds; imposed on MQTT 5 clients when not 0'),
  maxSessionExpiry: z
    .number()
    .int()
    .min(0)
    .default(0xffff_ffff)
    .describe('seconds; the longest session expiry granted (MQTT 5 clients ask for theirs)'),
  inboundMessagesPerSecond: z
    .number()
    .int()
    .min(1)
    .default(1000)
    .describe('per client; beyond it the hub stops reading that socket'),
  inboundBytesPerSecond: z
    .number()
    .int()
    .min(1024)
    .default(4 * 1024 * 1024)
    .describe('per client, like inboundMessagesPerSecond'),
  maxQueuedBytesPerClient: z
    .number()
    .int()
    .min(1024)
    .default(8 * 1024 * 1024)
    .describe('outgoing bytes buffered for one client'),
  dottedTopics: z
    .boolean()
    .default(false)
    .describe('treat "." like "/" in topics (RabbitMQ MQTT plugin style), for all clients'),
  dottedTopicsClients: z
    .array(z.string().min(1))
    .default([])
    .describe('client ids or usernames that get dotted topics when dottedTopics is off'),
  availabilityTopic: z
    .boolean()
    .default(true)
    .describe('publish retained devices/<id>/status = online/offline'),
  sysInterval: duration().default(10_000).describe('how often $SYS/broker/... topics are published'),
  acl: z
    .array(aclRuleSchema)
    .default([])
    .describe('extra rules for every device: [{ pattern, access }] with %u and %c'),
  anonymousAcl: z.array(aclRuleSchema).default([]).describe('the only rules anonymous clients get'),
  tls: z
    .strictObject({
      port: port().default(8883).describe('MQTT over TLS, served when cert and key are set'),
      cert: z
        .string()
        .optional()
        .describe('server certificate: a PEM file path or PEM text (hearth init --tls makes one)'),
      key: z.string().optional().describe('private key of the certificate: PEM file path or PEM text'),
      ca: z.string().optional().describe('CA that signs client certificates: PEM file path or PEM text'),
      requireClientCert: z
        .boolean()
        .default(false)
        .describe('accept only clients with a certificate from ca; device id = CN'),
    })
    .prefault({}),
  websocket: z
    .strictObject({
      enabled: z.boolean().default(true).describe('MQTT over WebSocket on the HTTP port'),
      path: z.string().default('/mqtt'),
    })
    .prefault({}),
})

export const httpSchema = z.strictObject({
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
export type ConfigInput = z.input<typeof configSchema>
export type AclRule = z.infer<typeof aclRuleSchema>

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz })
    return true
  } catch {
    return false
  }
}
export type MqttConfig = z.infer<typeof mqttSchema>
