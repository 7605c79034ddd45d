import { z } from 'zod'
import { PLATFORMS } from './message.ts'

/** A registered push token, `GET /api/v1/push/tokens`. */
export const pushTokenViewSchema = z
  .object({
    id: z.string().meta({ example: '3f2a9c0d1b7e4a55' }),
    token: z.string(),
    platform: z.enum(PLATFORMS),
    device: z.string().nullable(),
    user: z.string().nullable(),
    labels: z.array(z.string()),
    createdAt: z.number().int(),
    updatedAt: z.number().int().describe('last (re-)registration'),
    ageMs: z.number().int().describe('ms since the last (re-)registration'),
    lastSuccessAt: z.number().int().nullable(),
    lastFailureAt: z.number().int().nullable(),
    lastError: z.string().nullable(),
    failures: z.number().int().describe('failed sends since the last success'),
  })
  .meta({ id: 'PushToken' })
export type PushTokenView = z.infer<typeof pushTokenViewSchema>

/** A push target paused after too many dead tokens in one batch. */
export const pushPauseViewSchema = z
  .object({ target: z.string(), reason: z.string(), pausedAt: z.number().int() })
  .meta({ id: 'PushPause' })
export type PushPauseView = z.infer<typeof pushPauseViewSchema>

/** `POST /api/v1/push/send`: what was queued; each batch's `push.batch` event names it by its key. */
export const pushSendViewSchema = z
  .object({
    target: z.string(),
    tokens: z.number().int(),
    batches: z.number().int(),
    batchKeys: z
      .array(z.string())
      .describe('each batch is named by its key in its push.result and push.batch events'),
  })
  .meta({ id: 'PushSendResult' })
export type PushSendView = z.infer<typeof pushSendViewSchema>
