import { createRoute, type RouteConfig, z } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import { Errors } from '../../errors.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { errorResponses, jsonResponse } from './api-shared.ts'

/**
 * Builders for the OpenAPI routes of the resource routers: each route states its path, operationId,
 * summary, request and answer; the method's usual status and error answers are written here once.
 */

/** An operation's OpenAPI `[operationId, summary]`. */
export type Op = readonly [operationId: string, summary: string]
type Request = NonNullable<RouteConfig['request']>
type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 429 | 503
type Method = RouteConfig['method']

interface Spec<P extends string, Req extends Request> {
  /** `/` when absent. */
  path?: P
  op: Op
  request?: Req
  /** Error statuses besides those the request implies (see `impliedErrors`). */
  also?: readonly ErrorStatus[]
  /** Every error status, where the route departs from `impliedErrors`. */
  errors?: readonly ErrorStatus[]
  /** A longer OpenAPI description, when the summary is not enough. */
  description?: string
  /** OpenAPI security; `[]` for a route open to anyone. */
  security?: RouteConfig['security']
}

interface JsonSpec<P extends string, Req extends Request, T extends z.ZodType> extends Spec<P, Req> {
  /** The answer's schema and its description. */
  answer: readonly [schema: T, description: string]
}

/**
 * What a route can answer besides success: 400 when it validates a body or query, 401 and 403 from
 * authentication, 404 when its path names an item.
 */
function impliedErrors(request: Request | undefined): ErrorStatus[] {
  return [
    ...(request?.body || request?.query ? [400 as const] : []),
    401,
    403,
    ...(request?.params ? [404 as const] : []),
  ]
}

function build<M extends Method, P extends string, Req extends Request, Res extends RouteConfig['responses']>(
  method: M,
  s: Spec<P, Req>,
  ok: Res,
) {
  const [operationId, summary] = s.op
  const errors = s.errors ?? [...impliedErrors(s.request), ...(s.also ?? [])]
  return createRoute({
    method,
    path: s.path ?? ('/' as P),
    operationId,
    summary,
    ...(s.description ? { description: s.description } : {}),
    ...(s.security ? { security: s.security } : {}),
    request: s.request ?? ({} as Req),
    responses: { ...ok, ...errorResponses(...errors) },
  })
}

/** A route answering JSON with `status` (200 for reads and changes, 201 for creation, 202 for a start). */
export function jsonRoute<
  M extends Method,
  C extends 200 | 201 | 202,
  T extends z.ZodType,
  P extends string = '/',
  Req extends Request = Record<never, never>,
>(method: M, status: C, s: JsonSpec<P, Req, T>) {
  const [schema, description] = s.answer
  return build(method, s, { [status]: jsonResponse(schema, description) } as Record<
    C,
    ReturnType<typeof jsonResponse<T>>
  >)
}

/** `GET` answering one JSON value. */
export function getRoute<
  T extends z.ZodType,
  P extends string = '/',
  Req extends Request = Record<never, never>,
>(s: JsonSpec<P, Req, T>) {
  return jsonRoute('get', 200, s)
}

/** `GET` answering `{ items: [item…] }`, described as `items`. */
export function listRoute<
  T extends z.ZodType,
  P extends string = '/',
  Req extends Request = Record<never, never>,
>(s: Spec<P, Req> & { item: T; items: string }) {
  const { item, items, ...rest } = s
  return jsonRoute('get', 200, { ...rest, answer: [z.object({ items: z.array(item) }), items] })
}

/**
 * A route that creates or refreshes one item: 201 with `created` when it is new, 200 with `kept`
 * when it was there.
 */
export function upsertRoute<
  M extends Method,
  T extends z.ZodType,
  P extends string = '/',
  Req extends Request = Record<never, never>,
>(method: M, s: Spec<P, Req> & { item: T; kept: string; created: string }) {
  return build(method, s, { 200: jsonResponse(s.item, s.kept), 201: jsonResponse(s.item, s.created) })
}

/** A route answering 204 with `done` as its description. */
export function noContentRoute<
  M extends Method,
  P extends string = '/',
  Req extends Request = Record<never, never>,
>(method: M, s: Spec<P, Req> & { done: string }) {
  return build(method, s, { 204: { description: s.done } })
}

/** `DELETE` answering 204 with `done` as its description. */
export function deleteRoute<P extends string = '/', Req extends Request = Record<never, never>>(
  s: Spec<P, Req> & { done: string },
) {
  return noContentRoute('delete', s)
}

/** `{ <name> }` in a route's path: a string unless `schema` says otherwise. */
export function pathParam<N extends string, T extends z.ZodType = z.ZodString>(
  name: N,
  meta: { example?: string; description?: string; type?: 'integer' } = {},
  schema: T = z.string() as z.ZodType as T,
) {
  return z.object({ [name]: schema.openapi({ param: { name, in: 'path' }, ...meta }) } as Record<N, T>)
}

/** `{ <name> }` in a route's path as a row id: a positive integer. */
export const serialParam = <N extends string>(name: N) =>
  pathParam(name, { type: 'integer' }, z.coerce.number().int().positive())

/** A page's `limit`: 1 to `max` items, `fallback` when absent. */
export const limitQuery = (max: number, fallback: number) =>
  z.coerce.number().int().min(1).max(max).default(fallback)

/** `limit` and `cursor` of a paged list whose cursor is opaque. */
export const pagingQuery = (max: number, fallback: number) => ({
  limit: limitQuery(max, fallback),
  cursor: z.string().optional().openapi({ description: '`nextCursor` of the previous page' }),
})

/** One page of `item`s and, when there are more, the cursor of the next page. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().optional() })

/** `value`, or a 404 naming `what` when there is none (`undefined`, `null` or `false`). */
export function found<T>(value: T | undefined | null | false, what: string): T {
  if (value === undefined || value === null || value === false) throw Errors.notFound(what)
  return value
}

/** Read scope for `GET` and `HEAD`, write scope for every other method. */
export function readOrWrite(requireAuth: RequireAuth): MiddlewareHandler {
  const read = requireAuth('read')
  const write = requireAuth('write')
  return (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? read : write)(c, next)
}
