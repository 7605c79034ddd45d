import { z } from 'zod'

/** What a person or an API token may do: read, change, or administer. */
export const scopeSchema = z.enum(['read', 'write', 'admin'])
export type Scope = z.infer<typeof scopeSchema>

/** A person, as the API and the console show them (never the password hash). */
export const userViewSchema = z
  .object({
    id: z.number().int(),
    username: z.string(),
    role: z.string(),
    createdAt: z.number().int(),
  })
  .meta({ id: 'User' })
export type UserView = z.infer<typeof userViewSchema>

/** An API token, as the API and the console show it (never the secret). */
export const tokenViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scope: scopeSchema,
    prefix: z.string().describe('first characters of the secret'),
    createdBy: z.string().nullable(),
    createdAt: z.number().int(),
    lastUsedAt: z.number().int().nullable().describe('updated at most once a minute'),
    device: z.string().nullable().describe('set for a device-scoped (ingest only) token'),
  })
  .meta({ id: 'Token' })
export type TokenView = z.infer<typeof tokenViewSchema>
