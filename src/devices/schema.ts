import { z } from 'zod'
import { jsonObjectSchema, messageCountsShape, messageHeadShape, messageKindSchema } from '../bus/payloads.ts'
import { PRESET_NAMES } from './presets.ts'

/**
 * What the API and the console see of devices, groups and messages: one schema per shape, the
 * routes' OpenAPI responses and the types `web/` reads [STYLE 6].
 */

export const aclRuleViewSchema = z
  .object({
    pattern: z
      .string()
      .min(1)
      .meta({ example: 'sensors/%u/#', description: 'topic filter; %u and %c allowed' }),
    access: z.enum(['read', 'write', 'readwrite']),
  })
  .meta({ id: 'AclRule' })
export type AclRuleView = z.infer<typeof aclRuleViewSchema>

export const deviceViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    username: z.string(),
    enabled: z.boolean(),
    createdAt: z.number().int(),
    credentialsAt: z.number().int(),
    lastSeen: z.number().int().nullable(),
    online: z.boolean(),
    lastClientId: z.string().nullable(),
    lastAddress: z.string().nullable(),
    lastDisconnectReason: z.string().nullable(),
    preset: z
      .enum(PRESET_NAMES)
      .nullable()
      .describe('the tool the device was registered for; its topic trees are ACL rules'),
  })
  .meta({ id: 'Device' })
export type DeviceView = z.infer<typeof deviceViewSchema>

export const deviceCredentialsViewSchema = z
  .object({ id: z.string(), username: z.string(), password: z.string() })
  .meta({
    id: 'DeviceCredentials',
    description: 'MQTT credentials; the password is shown only in this answer',
  })
export type DeviceCredentialsView = z.infer<typeof deviceCredentialsViewSchema>

/** What to paste into the tool: its fields one by one, and the same as one block where it takes one. */
export const presetSettingsSchema = z
  .object({
    preset: z.enum(PRESET_NAMES),
    /** The tool's name for people. */
    tool: z.string(),
    where: z.string().describe('where in the tool the settings go'),
    fields: z.array(z.object({ label: z.string(), value: z.string() })),
    /** A block to paste as is (YAML, a console command), where the tool takes one. */
    snippet: z.object({ format: z.enum(['yaml', 'console', 'shell']), text: z.string() }).optional(),
    acl: z.array(aclRuleViewSchema).describe('the topic trees granted, besides devices/<id>/#'),
    docs: z.string().describe("the tool's documentation of these settings"),
  })
  .meta({
    id: 'PresetSettings',
    description: 'connection settings to paste into the tool; they hold the password, shown only here',
  })
export type PresetSettings = z.infer<typeof presetSettingsSchema>

/** `GET /api/v1/devices/:id/state`. */
export const deviceStateViewSchema = z
  .object({
    deviceId: z.string(),
    reported: jsonObjectSchema,
    reportedVersion: z.number().int(),
    reportedAt: z.number().int().nullable(),
    desired: jsonObjectSchema,
    desiredVersion: z.number().int(),
    desiredAt: z.number().int().nullable(),
    delta: jsonObjectSchema.describe('desired keys whose reported value differs'),
    pending: z.boolean().describe('desired state sent and not yet reported back'),
    sentAt: z.number().int().nullable(),
    deadline: z
      .number()
      .int()
      .nullable()
      .describe('device.convergence_timeout is raised if still pending then'),
    timedOutAt: z.number().int().nullable(),
  })
  .meta({ id: 'DeviceState' })
export type DeviceStateView = z.infer<typeof deviceStateViewSchema>

export const deviceGroupInfoSchema = z
  .object({
    groupId: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    deviceSize: z.number().int(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .meta({ id: 'DeviceGroup' })
export type DeviceGroupInfo = z.infer<typeof deviceGroupInfoSchema>

export const recipientStatusSchema = z.enum(['queued', 'delivered', 'expired', 'failed'])
/** delivered = the device's PUBACK reached the hub. */
export type RecipientStatus = z.infer<typeof recipientStatusSchema>

export const messageSummarySchema = z
  .object({
    ...messageHeadShape,
    message: z.unknown(),
    push: z.object({ title: z.string(), body: z.string() }).nullable(),
    failedDevices: z.array(z.string()),
    createdBy: z.string().nullable(),
    createdAt: z.number().int(),
    expiresAt: z.number().int(),
    ...messageCountsShape,
  })
  .meta({ id: 'MessageSummary' })
export type MessageSummary = z.infer<typeof messageSummarySchema>

const recipientViewSchema = z
  .object({
    deviceId: z.string(),
    status: recipientStatusSchema,
    sentAt: z.number().int().nullable(),
    attempts: z.number().int(),
    deliveredAt: z.number().int().nullable(),
    error: z.string().nullable(),
    push: z.object({ status: z.enum(['sent', 'failed']), error: z.string().nullable() }).nullable(),
  })
  .meta({ id: 'MessageRecipient' })
export type RecipientView = z.infer<typeof recipientViewSchema>

/** `GET /api/v1/messages/:id`: the message, its counts and a page of its recipients. */
export const messageViewSchema = messageSummarySchema
  .extend({ recipients: z.array(recipientViewSchema), nextCursor: z.string().optional() })
  .meta({ id: 'Message' })
export type MessageView = z.infer<typeof messageViewSchema>

/** What a device finds on its inbox topic: the sent message wrapped with its id and expiry. */
const inboxEnvelopeSchema = z.object({
  messageId: z.string(),
  kind: messageKindSchema,
  groupId: z.string().optional(),
  message: z.unknown(),
  sentAt: z.number().int(),
  expiresAt: z.number().int(),
})
export type InboxEnvelope = z.infer<typeof inboxEnvelopeSchema>
