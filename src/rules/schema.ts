import { z } from 'zod'
import { actionSchema } from '../catalog/actions.ts'
import { duration } from '../util/duration.ts'
import { conditionSchema } from './conditions.ts'

/** What a rule listens to. Conditions then read the trigger's data (the JSON payload, the reading …). */
const triggerSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('mqtt'),
    filter: z.string().min(1).describe('topic filter; + and # work'),
  }),
  z.strictObject({
    type: z.literal('telemetry'),
    metric: z.string().min(1).optional(),
    device: z.string().min(1).optional(),
  }),
  z.strictObject({
    type: z.literal('device'),
    event: z.enum(['online', 'offline', 'any']).default('any'),
    device: z.string().min(1).optional(),
  }),
  z.strictObject({ type: z.literal('hook'), name: z.string().min(1) }),
  z.strictObject({ type: z.literal('ingest'), device: z.string().min(1).optional() }),
  z.strictObject({ type: z.literal('schedule'), schedule: z.string().min(1) }),
])

const ruleFields = {
  name: z.string().max(200).optional(),
  enabled: z.boolean().default(true),
  chain: z.string().min(1).optional().describe('rules of one chain are evaluated together, in order'),
  order: z.number().int().default(0),
  step: z
    .enum(['continue', 'stop', 'always'])
    .default('continue')
    .describe("stop: when it fires, later rules of the chain are skipped, except 'always' ones"),
  trigger: triggerSchema,
  when: conditionSchema.optional(),
  actions: z.array(actionSchema).min(1),
  cooldown: duration().optional().describe('minimum time between two firings, per subject'),
  for: duration().optional().describe('the condition must hold this long before the rule fires'),
  hysteresis: z
    .strictObject({
      clear: conditionSchema.describe('after firing, the rule re-arms only once this holds'),
      actions: z.array(actionSchema).default([]),
    })
    .optional(),
}

const ruleIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, _ . - (up to 64)')

/** A rule, as written in the config file and sent to `/api/v1/rules` — one schema for both. */
export const ruleSchema = z.strictObject({ id: ruleIdSchema, ...ruleFields })
/** The body of `PUT /api/v1/rules/:id` (the id is in the path). */
export const ruleBodySchema = z.strictObject(ruleFields)

export type Rule = z.infer<typeof ruleSchema>
export type Trigger = z.infer<typeof triggerSchema>
