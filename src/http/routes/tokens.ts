import type { Database } from 'bun:sqlite'
import { createRoute, z } from '@hono/zod-openapi'
import { createTokenService } from '../../accounts/token-service.ts'
import type { Bus } from '../../bus/bus.ts'
import { Errors } from '../../errors.ts'
import { scopeSchema, tokenViewSchema } from '../../store/schema.ts'
import { getToken, listTokens } from '../../store/tokens.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { errorResponses, jsonBody, jsonResponse } from './api-shared.ts'

export const ScopeSchema = scopeSchema
export const TokenSchema = tokenViewSchema

const NewTokenSchema = z
  .object({
    name: z.string().min(1).max(128),
    scope: ScopeSchema,
    device: z
      .string()
      .min(1)
      .optional()
      .openapi({ description: 'a device-scoped token: may only post /ingest/<device>' }),
  })
  .openapi('NewToken')
const IdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) })

const list = createRoute({
  method: 'get',
  path: '/',
  operationId: 'listTokens',
  summary: 'List API tokens (never their secrets)',
  responses: {
    200: jsonResponse(z.object({ items: z.array(TokenSchema) }), 'tokens'),
    ...errorResponses(401, 403),
  },
})
const get = createRoute({
  method: 'get',
  path: '/{id}',
  operationId: 'getToken',
  summary: 'Get an API token',
  request: { params: IdParam },
  responses: { 200: jsonResponse(TokenSchema, 'the token'), ...errorResponses(401, 403, 404) },
})
const create = createRoute({
  method: 'post',
  path: '/',
  operationId: 'createToken',
  summary: 'Create an API token; the secret is in this answer only',
  request: { body: jsonBody(NewTokenSchema) },
  responses: {
    201: jsonResponse(
      z.object({ token: TokenSchema, secret: z.string().openapi({ example: 'hth_…' }) }),
      'created; send the secret as Authorization: Bearer',
    ),
    ...errorResponses(400, 401, 403),
  },
})
const revoke = createRoute({
  method: 'delete',
  path: '/{id}',
  operationId: 'revokeToken',
  summary: 'Revoke an API token',
  request: { params: IdParam },
  responses: { 204: { description: 'revoked' }, ...errorResponses(401, 403, 404) },
})

/** `/tokens`: API tokens for scripts and Prometheus; admin scope only. */
export function createTokenRoutes(deps: {
  db: Database
  bus: Bus
  requireAuth: RequireAuth
  now?: () => number
}) {
  const { db } = deps
  const tokens = createTokenService({ db, bus: deps.bus, now: deps.now ?? Date.now })
  const router = createRouter()
  router.use('*', deps.requireAuth('admin'))

  router.openapi(list, (c) => c.json({ items: listTokens(db) }, 200))

  router.openapi(get, (c) => {
    const token = getToken(db, c.req.valid('param').id)
    if (!token) throw Errors.notFound('token')
    return c.json(token, 200)
  })

  router.openapi(create, (c) => {
    const body = c.req.valid('json')
    const p = c.var.principal
    const createdBy = p.kind === 'user' ? p.id : `token:${p.id}`
    return c.json(tokens.create({ ...body, createdBy }), 201)
  })

  router.openapi(revoke, (c) => {
    if (!tokens.revoke(c.req.valid('param').id)) throw Errors.notFound('token')
    return c.body(null, 204)
  })
  return router
}
