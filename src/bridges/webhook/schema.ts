import { z } from 'zod'
import { unknownPlaceholders } from '../../actions/hook-template.ts'
import { isValidFilter } from '../../broker/topic-filter.ts'
import { duration } from '../../util/duration.ts'
import { uniqueNamed } from '../../util/named-list.ts'

/** Roots a target's body template may use. */
const TARGET_TEMPLATE_ROOTS = ['topic', 'levels', 'message', 'json', 'qos', 'retain', 'ts', 'key'] as const

/** Headers the bridge sets itself; a target cannot override them. */
const RESERVED_HEADERS = [
  'content-length',
  'host',
  'idempotency-key',
  'x-hearth-signature',
  'x-hearth-delivery',
]

const targetNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, "_", "." and "-", at most 64')

const definitionFields = {
  name: targetNameSchema,
  filter: z
    .string()
    .refine(isValidFilter, 'not a valid MQTT topic filter')
    .describe('MQTT topic filter; + and # work'),
  url: z
    .string()
    .refine((u) => /^https?:\/\//i.test(u) && URL.canParse(u), 'an http(s) URL')
    .describe('where messages are POSTed'),
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'a header name'), z.string())
    .default({})
    .refine((h) => !Object.keys(h).some((k) => RESERVED_HEADERS.includes(k.toLowerCase())), {
      message: `headers may not set ${RESERVED_HEADERS.join(', ')}`,
    })
    .describe('extra request headers'),
  template: z
    .string()
    .optional()
    .refine((t) => t === undefined || unknownPlaceholders(t, TARGET_TEMPLATE_ROOTS).length === 0, {
      message: `unknown placeholder (use ${TARGET_TEMPLATE_ROOTS.join(', ')})`,
    })
    .describe('body template instead of the JSON envelope, e.g. {"text": {message|json}}'),
  contentType: z.string().min(1).default('application/json'),
  enabled: z.boolean().default(true),
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(64)
    .optional()
    .describe('parallel deliveries; outbox.concurrency when unset'),
}

/** An outbound webhook target in the config file's `webhooks` array. */
const targetConfigSchema = z
  .strictObject({
    ...definitionFields,
    timeout: duration().default(10_000).describe('per request'),
    secret: z.string().min(1).meta({ secret: true }).optional().describe('signs X-Hearth-Signature'),
    secretFile: z.string().optional().describe('read secret from this file'),
  })
  .refine((t) => !(t.secret && t.secretFile), {
    message: 'set secret or secretFile, not both',
    path: ['secretFile'],
  })

export const targetsConfigSchema = uniqueNamed(targetConfigSchema, 'target').describe(
  'outbound webhooks: MQTT topic filter -> HTTP POST, through the outbox',
)

/** Body of `POST /api/v1/webhook-targets`. A missing secret is generated and shown once; `null` means unsigned. */
export const targetCreateSchema = z.strictObject({
  ...definitionFields,
  timeout: z.number().int().min(100).max(120_000).default(10_000).describe('per request, ms'),
  secret: z.string().min(16).nullable().optional(),
})

/** Body of `PUT /api/v1/webhook-targets/:name`: the whole definition; a missing secret keeps the old one. */
export const targetUpdateSchema = targetCreateSchema.extend({ name: targetNameSchema.optional() })

export type TargetConfig = z.infer<typeof targetConfigSchema>
export type TargetCreate = z.infer<typeof targetCreateSchema>

/** A target ready to deliver to: from config or API, secret resolved. */
export interface WebhookTarget {
  name: string
  filter: string
  url: string
  headers: Record<string, string>
  template?: string
  contentType: string
  enabled: boolean
  concurrency?: number
  /** ms */
  timeout: number
  secret?: string
  source: 'config' | 'api'
}

/** A target as the API shows it: never the secret. */
export const targetViewSchema = z.object({
  name: z.string(),
  filter: z.string(),
  url: z.string(),
  headers: z.record(z.string(), z.string()),
  template: z.string().optional(),
  contentType: z.string(),
  enabled: z.boolean(),
  concurrency: z.number().int().optional(),
  timeout: z.number().int(),
  source: z.enum(['config', 'api']),
  signed: z.boolean().describe('whether deliveries carry X-Hearth-Signature'),
})
export type TargetView = z.infer<typeof targetViewSchema>

export function targetView(t: WebhookTarget): TargetView {
  const { secret, ...rest } = t
  return { ...rest, signed: Boolean(secret) }
}
