import { z } from 'zod'

/** A captured delivery of an inbound hook, as the API and the console show it. */
export const hookDeliveryViewSchema = z
  .object({
    id: z.number().int(),
    hook: z.string(),
    ts: z.number().int(),
    deliveryId: z.string().nullable(),
    contentType: z.string().nullable(),
    headers: z.record(z.string(), z.string()),
    query: z.record(z.string(), z.string()),
    body: z.string(),
    bodyEncoding: z.enum(['utf8', 'base64']),
    bodySize: z.number().int(),
    truncated: z.boolean(),
    verification: z.string(),
    status: z.number().int(),
    code: z.number().int().nullable(),
    published: z
      .object({
        topic: z.string(),
        payload: z.string(),
        encoding: z.literal('base64').optional(),
        qos: z.number().int(),
        retain: z.boolean(),
      })
      .nullable(),
    replayOf: z.number().int().nullable(),
  })
  .meta({ id: 'HookDelivery' })
export type HookDeliveryView = z.infer<typeof hookDeliveryViewSchema>
