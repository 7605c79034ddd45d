import { z } from 'zod'
import { firestoreActionSchema } from '../bridges/firebase/firestore/action-schema.ts'
import { pollActionSchema } from '../bridges/poll/schema.ts'
import { isPublishableTopic } from '../util/topic.ts'
import { badPlaceholders } from './template.ts'

const qos = z.union([z.literal(0), z.literal(1), z.literal(2)])

const template = () =>
  z.string().superRefine((text, ctx) => {
    for (const p of badPlaceholders(text))
      ctx.addIssue({ code: 'custom', message: `{{${p}}} is not a JSON path` })
  })

/** How a publish payload is written: exact text, base64 bytes, a JSON value, or a `{{path}}` template. */
export const PAYLOAD_ENCODINGS = ['utf8', 'base64', 'json', 'template'] as const

export const publishActionSchema = z
  .strictObject({
    type: z.literal('publish'),
    topic: template().min(1).describe('topic name; {{path}} placeholders fill one level each'),
    payload: z
      .unknown()
      .optional()
      .describe('text (utf8, base64, template) or any JSON value (json); empty when absent'),
    encoding: z
      .enum(PAYLOAD_ENCODINGS)
      .optional()
      .describe('default: utf8 for a string payload, json for any other value'),
    qos: qos.default(0),
    retain: z.boolean().default(false),
  })
  .superRefine((a, ctx) => {
    const literal = a.topic.replace(/\{\{[^}]*\}\}/g, 'x')
    if (!isPublishableTopic(literal))
      ctx.addIssue({
        code: 'custom',
        path: ['topic'],
        message: 'topic must not contain + or # or start with $',
      })
    const enc = a.encoding ?? (typeof a.payload === 'string' || a.payload === undefined ? 'utf8' : 'json')
    if (enc !== 'json' && a.payload !== undefined && typeof a.payload !== 'string')
      ctx.addIssue({ code: 'custom', path: ['payload'], message: `must be a string with encoding ${enc}` })
    if (enc === 'base64' && typeof a.payload === 'string' && !/^[A-Za-z0-9+/_-]*={0,2}$/.test(a.payload))
      ctx.addIssue({ code: 'custom', path: ['payload'], message: 'not base64' })
    if (enc === 'template' && typeof a.payload === 'string')
      for (const p of badPlaceholders(a.payload))
        ctx.addIssue({ code: 'custom', path: ['payload'], message: `{{${p}}} is not a JSON path` })
  })

/** Records an event (shown in the console and kept in the event log). */
export const eventActionSchema = z.strictObject({
  type: z.literal('event'),
  message: template().min(1).describe('{{path}} placeholders allowed'),
  level: z.enum(['info', 'warning', 'critical']).default('info'),
})

/** POSTs to an outbound webhook target (by name) or a URL, delivered through the outbox. */
export const webhookActionSchema = z
  .strictObject({
    type: z.literal('webhook'),
    target: z.string().min(1).optional().describe('name of an outbound webhook target'),
    url: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('or a URL, for a target-less POST'),
    body: z.unknown().optional().describe('a template string or a JSON value; default: the action context'),
  })
  .refine((a) => (a.target === undefined) !== (a.url === undefined), 'give target or url, exactly one')

/** A push to phones (FCM); executed once the push bridge registers its executor. */
export const pushActionSchema = z
  .strictObject({
    type: z.literal('push'),
    group: z.string().min(1).optional().describe('a device group; absent: every registered phone'),
    tokens: z.array(z.string().min(1)).min(1).optional().describe('explicit registration tokens'),
    // Issue 6 point 1: the other targets (one token, a device, a label).
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

/** A Slack message; executed once the Slack bridge registers its executor. */
export const slackActionSchema = z.strictObject({
  type: z.literal('slack'),
  text: template().min(1),
  channel: z.string().min(1).optional(),
  target: z.string().min(1).optional().describe('name of a configured Slack target'),
})

/** Sets part of a device's desired state; executed once the device-state issue registers it. */
export const setDesiredActionSchema = z.strictObject({
  type: z.literal('setDesired'),
  device: template().min(1).describe('device id; {{path}} placeholders allowed'),
  state: z.record(z.string(), z.unknown()),
})

/** Every action a rule or a schedule can take, one schema for both (issue 5 points 2 and 3). */
export const actionSchema = z.discriminatedUnion('type', [
  publishActionSchema,
  eventActionSchema,
  webhookActionSchema,
  pushActionSchema,
  slackActionSchema,
  setDesiredActionSchema,
  pollActionSchema,
  firestoreActionSchema,
])

export type Action = z.infer<typeof actionSchema>
export type ActionInput = z.input<typeof actionSchema>
export type ActionType = Action['type']
export type ActionOf<T extends ActionType> = Extract<Action, { type: T }>
export const ACTION_TYPES = actionSchema.options.map((o) => o.shape.type.value) as ActionType[]
