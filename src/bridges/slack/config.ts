import { z } from 'zod'
import { duration } from '../../util/duration.ts'

const httpUrl = () => z.string().refine((u) => /^https?:\/\//i.test(u) && URL.canParse(u), 'an http(s) URL')

const SEVERITIES = ['info', 'warning', 'critical'] as const
export type Severity = (typeof SEVERITIES)[number]

const nameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, "_", "." and "-", at most 64')

/** One place messages go: an incoming webhook, or a channel through the bot token. */
const slackDestinationSchema = z
  .strictObject({
    name: nameSchema,
    webhookUrl: httpUrl().meta({ secret: true }).optional().describe('incoming-webhook URL'),
    webhookUrlFile: z.string().optional().describe('read webhookUrl from this file'),
    channel: z.string().min(1).optional().describe('with slack.botToken: a channel id (C…) or name'),
  })
  .refine((d) => [d.webhookUrl, d.webhookUrlFile, d.channel].filter(Boolean).length === 1, {
    message: 'give one of webhookUrl, webhookUrlFile or channel',
  })

/** `slack.*` config keys. */
export const slackConfigSchema = z
  .strictObject({
    webhookUrl: httpUrl()
      .meta({ secret: true })
      .optional()
      .describe('incoming-webhook URL of the destination "default" (Slack app > Incoming Webhooks)'),
    webhookUrlFile: z.string().optional().describe('read slack.webhookUrl from this file'),
    botToken: z
      .string()
      .min(1)
      .meta({ secret: true })
      .optional()
      .describe('bot token (xoxb-…) for chat.postMessage, with the chat:write scope'),
    botTokenFile: z.string().optional().describe('read slack.botToken from this file'),
    channel: z.string().min(1).optional().describe('with botToken: the channel of the destination "default"'),
    apiUrl: httpUrl()
      .default('https://slack.com/api')
      .describe('Web API base URL (tests point it at a local peer)'),
    destinations: z
      .array(slackDestinationSchema)
      .default([])
      .describe('more named destinations: [{ name, webhookUrl | webhookUrlFile | channel }]'),
    minInterval: duration()
      .default(1000)
      .describe('at least this long between two messages to one destination'),
    dedupWindow: duration()
      .default(600_000)
      .describe('an identical message to the same destination within this window is sent once'),
    timeout: duration().default(10_000).describe('per Slack request'),
    alerts: z
      .strictObject({
        destination: z
          .string()
          .optional()
          .describe('where alerts go; default: "default", else the first destination'),
        restarts: z
          .boolean()
          .default(true)
          .describe('a message per incident of a service the supervisor restarts'),
        bridges: z.boolean().default(true).describe('a summary of dead letters and open circuits'),
        events: z.boolean().default(true).describe('`alert` events at or above minSeverity'),
        minSeverity: z.enum(SEVERITIES).default('warning'),
        summaryWindow: duration()
          .default(60_000)
          .describe('bridge failures are gathered this long into one summary'),
        incidentQuiet: duration()
          .default(600_000)
          .describe('a service up this long after a restart: its next failure is a new incident'),
      })
      .prefault({}),
  })
  .superRefine((s, ctx) => {
    const names = new Set<string>()
    const all = [
      ...(s.webhookUrl || s.webhookUrlFile || s.channel ? [{ name: 'default' }] : []),
      ...s.destinations,
    ]
    for (const [i, d] of all.entries()) {
      if (names.has(d.name))
        ctx.addIssue({
          code: 'custom',
          path: ['destinations', i],
          message: `duplicate destination ${d.name}`,
        })
      names.add(d.name)
    }
    const usesBot = Boolean(s.channel) || s.destinations.some((d) => d.channel)
    if (usesBot && !s.botToken && !s.botTokenFile)
      ctx.addIssue({
        code: 'custom',
        path: ['botToken'],
        message: 'a channel destination needs slack.botToken',
      })
    if ((s.webhookUrl || s.webhookUrlFile) && s.channel)
      ctx.addIssue({
        code: 'custom',
        path: ['channel'],
        message: 'set webhookUrl or channel for "default", not both',
      })
    if (s.alerts.destination && !names.has(s.alerts.destination))
      ctx.addIssue({
        code: 'custom',
        path: ['alerts', 'destination'],
        message: `no destination ${s.alerts.destination}`,
      })
  })

export type SlackConfig = z.infer<typeof slackConfigSchema>
