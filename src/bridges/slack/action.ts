import { z } from 'zod'
import { template } from '../../actions/schema.ts'

/** A Slack message; executed once the Slack bridge registers its executor. */
export const slackActionSchema = z.strictObject({
  type: z.literal('slack'),
  text: template().min(1),
  channel: z.string().min(1).optional(),
  target: z.string().min(1).optional().describe('name of a configured Slack target'),
})

export type SlackAction = z.infer<typeof slackActionSchema>
