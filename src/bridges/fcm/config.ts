import { z } from 'zod'
import { duration } from '../../util/duration.ts'
import { parseServiceAccount } from './service-account.ts'

/** FCM's own limit on tokens per multicast call; Hearth keeps its batches to it. */
const MAX_BATCH = 500

/** `push.*` config keys. Push is on when a service account is configured. */
export const pushConfigSchema = z.strictObject({
  serviceAccount: z
    .string()
    .min(1)
    .meta({ secret: true })
    .superRefine((text, ctx) => {
      const problem = parseServiceAccount(text).error
      if (problem) ctx.addIssue({ code: 'custom', message: problem })
    })
    .optional()
    .describe('the service-account JSON (Firebase console > Project settings > Service accounts)'),
  serviceAccountFile: z.string().optional().describe('read push.serviceAccount from this JSON file'),
  projectId: z
    .string()
    .min(1)
    .optional()
    .describe('Firebase project; default: project_id of the service account'),
  baseUrl: z
    .string()
    .refine((u) => /^https?:\/\//i.test(u) && URL.canParse(u), 'an http(s) URL')
    .default('https://fcm.googleapis.com')
    .describe('FCM HTTP v1 endpoint (tests point it at a local peer)'),
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(100)
    .describe('FCM requests in flight at once, across every batch'),
  batchSize: z.number().int().min(1).max(MAX_BATCH).default(MAX_BATCH).describe('tokens per outbox delivery'),
  batchesPerTarget: z
    .number()
    .int()
    .min(1)
    .max(64)
    .default(4)
    .describe('batches of one push target sent at the same time'),
  timeout: duration().default(10_000).describe('per FCM request'),
})

export type PushConfig = z.infer<typeof pushConfigSchema>
