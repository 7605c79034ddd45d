import { z } from 'zod'

/**
 * Shapes that are both event payloads and API results. They live at the bottom, beside the event
 * map, so the domain that produces them, the bus that carries them and the routes that answer with
 * them share one definition without a folder cycle [STYLE 6].
 */

/** A JSON object as it came over the wire (device state, desired state, deltas). */
export const jsonObjectSchema = z.record(z.string(), z.unknown())
export type JsonObject = z.infer<typeof jsonObjectSchema>

/** Where a push token lives. */
export const PUSH_PLATFORMS = ['ios', 'android', 'web'] as const
export type PushPlatform = (typeof PUSH_PLATFORMS)[number]

const failedDevices = z.array(z.string()).describe('ids that are not registered devices')

// Device groups, in the result shapes of source (c)'s push platform.

/** `createDeviceGroup` (REST `POST /groups`). */
export const groupCreateResultSchema = z.object({
  groupId: z.string(),
  deviceSize: z.number().int(),
  failedDevices,
})
export type GroupCreateResult = z.infer<typeof groupCreateResultSchema>

/** `addDeviceGroup` (REST `POST /groups/:groupId/add`). */
export const groupAddResultSchema = groupChangeSchema('addedDeviceSize')
export type GroupAddResult = z.infer<typeof groupAddResultSchema>

/** `subtractDeviceGroup` (REST `POST /groups/:groupId/subtract`). */
export const groupSubtractResultSchema = groupChangeSchema('removedDeviceSize')
export type GroupSubtractResult = z.infer<typeof groupSubtractResultSchema>

/** A membership change: the group's size after it, how many devices it `counted`, the unknown ids. */
function groupChangeSchema<K extends string>(counted: K) {
  const changed = { [counted]: z.number().int() } as Record<K, z.ZodNumber>
  return z.object({ groupId: z.string(), totalDeviceSize: z.number().int(), ...changed, failedDevices })
}

/** `deleteDeviceGroup` (REST `DELETE /groups/:groupId`). */
export const groupDeleteResultSchema = z.object({ groupId: z.string() })
export type GroupDeleteResult = z.infer<typeof groupDeleteResultSchema>

export const messageKindSchema = z.enum(['unicast', 'multicast', 'broadcast', 'group'])
export type MessageKind = z.infer<typeof messageKindSchema>

/** What names a message wherever one is shown: its id, its kind and its group (of kind `group`). */
export const messageHeadShape = {
  messageId: z.string(),
  kind: messageKindSchema,
  groupId: z.string().nullable(),
}

/** `sendUnicastMsg`, `sendMulticastMsg`, `sendBroadcastMsg`, `sendGroupMsg` (REST `POST /messages/<kind>`). */
export const sendResultSchema = z
  .object({
    ...messageHeadShape,
    recipientSize: z.number().int().describe('registered devices it is for'),
    sentSize: z.number().int().describe('published at once; the rest when they come back'),
    failedDevices,
    expiresAt: z.number().int(),
  })
  .meta({ id: 'SendResult' })
export type SendResult = z.infer<typeof sendResultSchema>

export const messageCountsShape = {
  queued: z.number().int(),
  delivered: z.number().int().describe('the device’s PUBACK reached the hub'),
  expired: z.number().int(),
  failed: z.number().int(),
}
const messageCountsSchema = z.object(messageCountsShape)
export type MessageCounts = z.infer<typeof messageCountsSchema>

const messageProgressSchema = messageCountsSchema.extend({
  messageId: z.string(),
  kind: messageKindSchema,
})
export type MessageProgress = z.infer<typeof messageProgressSchema>

/** A device's message on its outbox topic (source (c)'s `onUpstreamMsgReceived(sender, sendTime, msg)`). */
const deviceUpstreamSchema = z.object({
  device: z.string(),
  sendTime: z.number().int(),
  topic: z.string(),
  payload: z.unknown().describe('the parsed JSON value, else the text, else base64 (see encoding)'),
  encoding: z.enum(['json', 'utf8', 'base64']),
  clientId: z.string().nullable(),
})
export type DeviceUpstream = z.infer<typeof deviceUpstreamSchema>
