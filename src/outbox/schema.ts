import { z } from 'zod'

export const OUTBOX_STATES = ['pending', 'sending', 'dead'] as const

/** A delivery in the outbox, `GET /api/v1/outbox` (payload only where asked for). */
export const outboxEntryViewSchema = z
  .object({
    id: z.number().int(),
    kind: z.string().meta({ example: 'webhook' }),
    target: z.string(),
    key: z.string().describe('idempotency key, stable across retries'),
    payload: z.unknown(),
    state: z.enum(OUTBOX_STATES),
    attempts: z.number().int(),
    createdAt: z.number().int(),
    nextAt: z.number().int(),
    expiresAt: z.number().int(),
    updatedAt: z.number().int(),
    lastError: z.string().nullable(),
    lastStatus: z.number().int().nullable(),
    deadReason: z.string().nullable(),
  })
  .meta({ id: 'OutboxEntry' })
export type OutboxEntryView = z.infer<typeof outboxEntryViewSchema>
