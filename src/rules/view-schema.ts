import { z } from 'zod'

/** A rule as `GET /api/v1/rules` answers it. */
export const ruleViewSchema = z
  .object({
    rule: z.record(z.string(), z.unknown()).describe('the definition, as in the config file'),
    origin: z.enum(['config', 'api']),
    suspended: z.boolean().describe('stopped after firing too often (a loop)'),
  })
  .meta({ id: 'Rule' })
export type RuleView = z.infer<typeof ruleViewSchema>

/** What `POST /api/v1/rules/:id/test` answers: the firings the rule would have made. */
export const ruleTestViewSchema = z
  .object({
    firings: z.array(
      z.object({
        subject: z.string().optional(),
        reason: z.enum(['fired', 'cleared']),
        input: z.unknown(),
        actions: z.array(z.unknown()),
      }),
    ),
  })
  .meta({ id: 'RuleTestResult' })
export type RuleTestView = z.infer<typeof ruleTestViewSchema>
