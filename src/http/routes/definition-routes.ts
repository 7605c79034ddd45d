import { createRoute, z } from '@hono/zod-openapi'
import { errorResponses, jsonBody, jsonResponse } from './api-shared.ts'

interface DefinitionRouteSchemas<
  Item extends z.ZodType,
  Created extends z.ZodType,
  Create extends z.ZodType,
  Update extends z.ZodType,
  Param extends z.ZodObject,
> {
  /** How descriptions name one item (`every hook`, `the hook`). */
  noun: string
  item: Item
  /** The create answer: the item and a generated secret, shown once. */
  created: Created
  create: Create
  update: Update
  /** `{ name }` in the path. */
  param: Param
  /** Each operation's OpenAPI operationId and summary, as `[operationId, summary]`. */
  operations: Record<'list' | 'create' | 'get' | 'update' | 'remove', [string, string]>
}

/**
 * What a list adds, only when there is something to say (docs/definitions.md): stored ids the config
 * file shadows, and stored rows that no longer parse (kept until replaced or deleted).
 */
export const definitionReport = {
  shadowed: z
    .array(z.string())
    .optional()
    .openapi({ description: 'stored ids the config file also defines' }),
  invalid: z
    .array(z.object({ id: z.string(), error: z.string() }))
    .optional()
    .openapi({ description: 'stored definitions that no longer parse; not in effect' }),
}

/** The list answer's report fields, present only when not empty. */
export function listReport(r: { shadowed: string[]; invalid: Array<{ id: string; error: string }> }) {
  return {
    ...(r.shadowed.length ? { shadowed: r.shadowed } : {}),
    ...(r.invalid.length ? { invalid: r.invalid } : {}),
  }
}

/**
 * The OpenAPI routes of items defined in the config file or through the API (hooks, webhook targets):
 * list, create, get, replace and delete; config items answer 409 to the last two.
 */
export function definitionRoutes<
  Item extends z.ZodType,
  Created extends z.ZodType,
  Create extends z.ZodType,
  Update extends z.ZodType,
  Param extends z.ZodObject,
>(s: DefinitionRouteSchemas<Item, Created, Create, Update, Param>) {
  const described = (op: keyof typeof s.operations) => {
    const [operationId, summary] = s.operations[op]
    return { operationId, summary }
  }
  return {
    list: createRoute({
      method: 'get',
      path: '/',
      ...described('list'),
      responses: {
        200: jsonResponse(z.object({ items: z.array(s.item), ...definitionReport }), `every ${s.noun}`),
        ...errorResponses(401, 403),
      },
    }),
    create: createRoute({
      method: 'post',
      path: '/',
      ...described('create'),
      request: { body: jsonBody(s.create) },
      responses: { 201: jsonResponse(s.created, 'created'), ...errorResponses(400, 401, 403, 409) },
    }),
    get: createRoute({
      method: 'get',
      path: '/{name}',
      ...described('get'),
      request: { params: s.param },
      responses: { 200: jsonResponse(s.item, `the ${s.noun}`), ...errorResponses(401, 403, 404) },
    }),
    update: createRoute({
      method: 'put',
      path: '/{name}',
      ...described('update'),
      request: { params: s.param, body: jsonBody(s.update) },
      responses: { 200: jsonResponse(s.item, `the ${s.noun}`), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    remove: createRoute({
      method: 'delete',
      path: '/{name}',
      ...described('remove'),
      request: { params: s.param },
      responses: { 204: { description: 'deleted' }, ...errorResponses(401, 403, 404, 409) },
    }),
  }
}
