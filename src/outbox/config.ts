import { z } from 'zod'
import { duration } from '../util/duration.ts'

/** `outbox.*` config keys. */
export const outboxConfigSchema = z.strictObject({
  concurrency: z.number().int().min(1).max(64).default(4).describe('parallel deliveries per target'),
  maxAttempts: z
    .number()
    .int()
    .min(1)
    .default(12)
    .describe('attempts before a delivery becomes a dead letter'),
  maxAge: duration()
    .default(86_400_000)
    .describe('a delivery not done this long after it was queued becomes a dead letter'),
  backoffBase: duration()
    .default(1000)
    .describe('delay before the first retry; doubles per attempt, with jitter'),
  backoffMax: duration().default(600_000).describe('longest delay between two attempts'),
  breakerThreshold: z
    .number()
    .int()
    .min(1)
    .default(5)
    .describe("consecutive failures that open a target's circuit"),
  breakerCooldown: duration().default(30_000).describe('how long an open circuit waits before one probe'),
})

export type OutboxConfig = z.infer<typeof outboxConfigSchema>
