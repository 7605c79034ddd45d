import { z } from '@hono/zod-openapi'

/** The JSON body of every error [STYLE 8], as documented in OpenAPI. */
const ErrorSchema = z
  .object({
    code: z.number().int().openapi({ example: 40002 }),
    error: z.string(),
    details: z.unknown().optional(),
  })
  .openapi('Error')

const DESCRIPTIONS: Record<number, string> = {
  400: 'invalid JSON (40001) or a body or query that does not match the schema (40002)',
  401: 'not authenticated (40101) or wrong credentials (40104)',
  403: 'scope too small (40301) or CSRF token missing (40302)',
  404: 'not found (40401)',
  409: 'conflict (40901)',
  413: 'body too large (41301)',
  429: 'too many attempts (42901); see Retry-After',
  503: 'not available (50301)',
}

/** OpenAPI responses for the error statuses a route can answer. */
export function errorResponses<S extends number>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: DESCRIPTIONS[s] ?? 'error', content: { 'application/json': { schema: ErrorSchema } } },
    ]),
  ) as Record<S, { description: string; content: { 'application/json': { schema: typeof ErrorSchema } } }>
}

/** A JSON response for OpenAPI. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } }
}

/** A JSON request body for OpenAPI (required). */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { 'application/json': { schema } } }
}
