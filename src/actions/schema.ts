import { z } from 'zod'
import { isPublishableTopic } from '../util/topic.ts'
import { badPlaceholders } from './template.ts'

const qos = z.union([z.literal(0), z.literal(1), z.literal(2)])

/** A string with `{{path}}` placeholders, each checked to be a JSON path. */
export const template = () =>
  z.string().superRefine((text, ctx) => {
    for (const p of badPlaceholders(text))
      ctx.addIssue({ code: 'custom', message: `{{${p}}} is not a JSON path` })
  })

/** How a publish payload is written: exact text, base64 bytes, a JSON value, or a `{{path}}` template. */
const PAYLOAD_ENCODINGS = ['utf8', 'base64', 'json', 'template'] as const

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

export type PublishAction = z.infer<typeof publishActionSchema>
export type EventAction = z.infer<typeof eventActionSchema>
