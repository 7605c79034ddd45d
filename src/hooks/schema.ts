import { z } from 'zod'
import { unknownPlaceholders } from '../actions/hook-template.ts'
import { duration } from '../util/duration.ts'
import { uniqueNamed } from '../util/named-list.ts'
import { isPublishableTopic } from '../util/topic.ts'

/** Verification presets. `none` is never a default: it must be chosen. */
const HOOK_PRESETS = ['github', 'slack', 'stripe', 'hmac-sha256', 'token', 'none'] as const
type HookPreset = (typeof HOOK_PRESETS)[number]

/** Roots a hook's topic and payload templates may use. */
const HOOK_TEMPLATE_ROOTS = ['name', 'body', 'query', 'header', 'ts'] as const

const hookNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, "_", "." and "-", at most 64')

/** What every hook definition has, from config or from the API (the secret aside). */
const definitionFields = {
  name: hookNameSchema,
  preset: z.enum(HOOK_PRESETS).describe('how deliveries are verified; "none" only when chosen explicitly'),
  header: z
    .string()
    .min(1)
    .optional()
    .describe(
      'hmac-sha256: signature header (default X-Signature); token: token header (default X-Hook-Token)',
    ),
  timestampHeader: z
    .string()
    .min(1)
    .optional()
    .describe('hmac-sha256: header with a unix timestamp; the signed text is then "<timestamp>.<body>"'),
  tokenParam: z.string().min(1).optional().describe('token: also accept the token as this query parameter'),
  encoding: z.enum(['hex', 'base64']).default('hex').describe('hmac-sha256: how the signature is written'),
  topic: z
    .string()
    .min(1)
    .default('hooks/{name}')
    .describe('MQTT topic template, e.g. hooks/{name}/{body.device}'),
  payload: z
    .enum(['raw', 'field', 'template'])
    .default('raw')
    .describe('publish the raw body, one JSON field, or a template'),
  field: z.string().min(1).optional().describe('payload "field": dot path into the JSON body, e.g. message'),
  template: z.string().optional().describe('payload "template": e.g. {"state": {body.action|json}}'),
  qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(0),
  retain: z.boolean().default(false),
}

type DefinitionShape = {
  preset: HookPreset
  topic: string
  payload: 'raw' | 'field' | 'template'
  field?: string | undefined
  template?: string | undefined
}

// Rules that span fields, shared by the config and the API schema.
function checkDefinition(def: DefinitionShape, hasSecret: boolean, ctx: z.RefinementCtx) {
  if (def.preset !== 'none' && !hasSecret)
    ctx.addIssue({ code: 'custom', path: ['secret'], message: `preset ${def.preset} needs a secret` })
  if (def.payload === 'field' && !def.field)
    ctx.addIssue({ code: 'custom', path: ['field'], message: 'payload "field" needs field' })
  if (def.payload === 'template' && def.template === undefined)
    ctx.addIssue({ code: 'custom', path: ['template'], message: 'payload "template" needs template' })
  for (const [key, text] of [
    ['topic', def.topic],
    ['template', def.template],
  ] as const) {
    const unknown = text === undefined ? [] : unknownPlaceholders(text, HOOK_TEMPLATE_ROOTS)
    if (unknown.length)
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `unknown placeholder ${unknown.join(', ')} (use ${HOOK_TEMPLATE_ROOTS.join(', ')})`,
      })
  }
  const literal = def.topic.replace(/\{[^}]*\}/g, 'x')
  if (!isPublishableTopic(literal))
    ctx.addIssue({ code: 'custom', path: ['topic'], message: 'topic must not contain +, # or start with $' })
}

/** A hook in the config file's `hooks` array. */
const hookConfigSchema = z
  .strictObject({
    ...definitionFields,
    secret: z.string().min(1).meta({ secret: true }).optional().describe('shared secret or token'),
    secretFile: z.string().optional().describe('read secret from this file'),
  })
  .superRefine((def, ctx) => {
    checkDefinition(def, Boolean(def.secret || def.secretFile), ctx)
    if (def.secret && def.secretFile)
      ctx.addIssue({ code: 'custom', path: ['secretFile'], message: 'set secret or secretFile, not both' })
  })

export const hooksConfigSchema = uniqueNamed(hookConfigSchema, 'hook').describe(
  'inbound webhooks at /hooks/<name>',
)

/** Where captured deliveries and remembered delivery ids are kept. */
export const hookDeliveriesConfigSchema = z.strictObject({
  captureBytes: z
    .number()
    .int()
    .min(0)
    .default(64 * 1024)
    .describe('bytes of each delivery body kept for listing and replay'),
  retention: duration()
    .default(7 * 86_400_000)
    .describe('how long captured deliveries are kept'),
  rememberIds: duration()
    .default(7 * 86_400_000)
    .describe('how long accepted delivery ids are remembered to refuse replays'),
})

/** Body of `POST /api/v1/hooks` (a missing secret is generated and shown once). */
export const hookCreateSchema = z
  .strictObject({ ...definitionFields, secret: z.string().min(16).optional() })
  .superRefine((def, ctx) => checkDefinition(def, true, ctx))

/** Body of `PUT /api/v1/hooks/:name`: the whole definition; a missing secret keeps the old one. */
export const hookUpdateSchema = z
  .strictObject({
    ...definitionFields,
    name: hookNameSchema.optional(),
    secret: z.string().min(16).optional(),
  })
  .superRefine((def, ctx) => checkDefinition(def, true, ctx))

export type HookConfig = z.infer<typeof hookConfigSchema>
export type HookCreate = z.infer<typeof hookCreateSchema>

/** A hook ready to verify and map deliveries: config- or API-defined, secret resolved. */
export interface HookDefinition {
  name: string
  preset: HookPreset
  secret?: string
  header?: string
  timestampHeader?: string
  tokenParam?: string
  encoding: 'hex' | 'base64'
  topic: string
  payload: 'raw' | 'field' | 'template'
  field?: string
  template?: string
  qos: 0 | 1 | 2
  retain: boolean
  source: 'config' | 'api'
}

/** A hook as the API shows it: never the secret. */
export const hookViewSchema = z.object({
  name: z.string(),
  preset: z.enum(HOOK_PRESETS),
  header: z.string().optional(),
  timestampHeader: z.string().optional(),
  tokenParam: z.string().optional(),
  encoding: z.enum(['hex', 'base64']),
  topic: z.string(),
  payload: z.enum(['raw', 'field', 'template']),
  field: z.string().optional(),
  template: z.string().optional(),
  qos: z.number().int(),
  retain: z.boolean(),
  source: z.enum(['config', 'api']),
  hasSecret: z.boolean(),
  url: z.string().describe('path deliveries are posted to'),
})
export type HookView = z.infer<typeof hookViewSchema>

export function hookView(def: HookDefinition): HookView {
  const { secret, ...rest } = def
  return { ...rest, hasSecret: Boolean(secret), url: `/hooks/${encodeURIComponent(def.name)}` }
}
