import { z } from 'zod'
import { host, port } from '../util/address.ts'
import { duration } from '../util/duration.ts'

/** One ACL rule: a topic pattern (`%u` the username, `%c` the client id) and what it allows. */
export const aclRuleSchema = z.strictObject({
  pattern: z.string().min(1),
  access: z.enum(['read', 'write', 'readwrite', 'deny']),
})

/** The `[mqtt]` section: listeners, limits and the ACL every device gets. */
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

export type AclRule = z.infer<typeof aclRuleSchema>
/** The `[mqtt]` section of the config file. */
export type MqttConfig = z.infer<typeof mqttSchema>
