import { z } from '@hono/zod-openapi'
import { jsonBody } from './api-shared.ts'
import { deleteRoute, getRoute, jsonRoute, type Op } from './route-builders.ts'

interface DefinitionRouteSchemas<
  Item extends z.ZodType,
  Key extends string,
  Create extends z.ZodType,
  Update extends z.ZodType,
  Param extends z.ZodObject,
> {
  /** How descriptions name one item (`every hook`, `the hook`). */
  noun: string
  item: Item
  /** The create answer: `{ <key>: item, secret? }` (a generated secret, shown once), named `name`. */
  created: { key: Key; name: string }
  create: Create
  update: Update
  /** `{ name }` in the path. */
  param: Param
  /** Each operation's OpenAPI operationId and summary, as `[operationId, summary]`. */
  operations: Record<'list' | 'create' | 'get' | 'update' | 'remove', Op>
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
  Key extends string,
  Create extends z.ZodType,
  Update extends z.ZodType,
  Param extends z.ZodObject,
>(s: DefinitionRouteSchemas<Item, Key, Create, Update, Param>) {
  const secret = z.string().optional().describe('the generated secret, shown only now')
  const created = z
    .object({ [s.created.key]: s.item, secret } as Record<Key, Item> & { secret: typeof secret })
    .openapi(s.created.name)
  const params = { params: s.param }
  return {
    list: getRoute({
      op: s.operations.list,
      answer: [z.object({ items: z.array(s.item), ...definitionReport }), `every ${s.noun}`],
    }),
    create: jsonRoute('post', 201, {
      op: s.operations.create,
      request: { body: jsonBody(s.create) },
      answer: [created, 'created'],
      also: [409],
    }),
    get: getRoute({
      path: '/{name}',
      op: s.operations.get,
      request: params,
      answer: [s.item, `the ${s.noun}`],
    }),
    update: jsonRoute('put', 200, {
      path: '/{name}',
      op: s.operations.update,
      request: { ...params, body: jsonBody(s.update) },
      answer: [s.item, `the ${s.noun}`],
      also: [409],
    }),
    remove: deleteRoute({
      path: '/{name}',
      op: s.operations.remove,
      request: params,
      done: 'deleted',
      also: [409],
    }),
  }
}
