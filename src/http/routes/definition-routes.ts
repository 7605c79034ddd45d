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
  summaries: { list: string; create: string; get: string; update: string; remove: string }
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
  return {
    list: createRoute({
      method: 'get',
      path: '/',
      summary: s.summaries.list,
      responses: {
        200: jsonResponse(z.object({ items: z.array(s.item) }), `every ${s.noun}`),
        ...errorResponses(401, 403),
      },
    }),
    create: createRoute({
      method: 'post',
      path: '/',
      summary: s.summaries.create,
      request: { body: jsonBody(s.create) },
      responses: { 201: jsonResponse(s.created, 'created'), ...errorResponses(400, 401, 403, 409) },
    }),
    get: createRoute({
      method: 'get',
      path: '/{name}',
      summary: s.summaries.get,
      request: { params: s.param },
      responses: { 200: jsonResponse(s.item, `the ${s.noun}`), ...errorResponses(401, 403, 404) },
    }),
    update: createRoute({
      method: 'put',
      path: '/{name}',
      summary: s.summaries.update,
      request: { params: s.param, body: jsonBody(s.update) },
      responses: { 200: jsonResponse(s.item, `the ${s.noun}`), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    remove: createRoute({
      method: 'delete',
      path: '/{name}',
      summary: s.summaries.remove,
      request: { params: s.param },
      responses: { 204: { description: 'deleted' }, ...errorResponses(401, 403, 404, 409) },
    }),
  }
}
