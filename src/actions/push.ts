import { z } from 'zod'
import { template } from './schema.ts'

/**
 * A push to phones; the FCM bridge carries it out. Its schema sits here, below both, because
 * device messaging sends pushes and the bridge resolves device groups.
 */
export const pushActionSchema = z
  .strictObject({
    type: z.literal('push'),
    group: z.string().min(1).optional().describe('a device group; absent: every registered phone'),
    tokens: z.array(z.string().min(1)).min(1).optional().describe('explicit registration tokens'),
    // Besides a group and explicit tokens, a push may name one token, a device or a label.
    token: z.string().min(1).optional().describe('one registration token'),
    device: template()
      .min(1)
      .optional()
      .describe("a device's registered tokens; {{path}} placeholders allowed"),
    devices: z.array(z.string().min(1)).min(1).optional().describe('the registered tokens of these devices'),
    label: z.string().min(1).optional().describe('tokens registered with this label'),
    silent: z
      .boolean()
      .default(false)
      .describe('a background (content-available) push without a notification'),
    title: template().optional(),
    body: template().optional(),
    data: z
      .record(z.string(), template())
      .default({})
      .describe('string values; {{path}} placeholders allowed'),
    threadId: z.string().optional().describe('APNs thread-id (source (b) used it as the message type)'),
    collapseKey: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe('Android collapse_key and APNs apns-collapse-id'),
    channel: z.string().min(1).optional().describe('Android notification channel id'),
    tag: z.string().min(1).optional().describe('Android notification tag'),
  })
  .refine(
    (a) =>
      [a.group, a.tokens, a.token, a.device, a.devices, a.label].filter((t) => t !== undefined).length <= 1,
    'give at most one of group, tokens, token, device, devices, label (none: every registered token)',
  )
  .refine((a) => a.silent || a.title !== undefined || a.body !== undefined, {
    message: 'a notification needs a title or a body (or set silent = true)',
    path: ['title'],
  })

export type PushAction = z.infer<typeof pushActionSchema>
