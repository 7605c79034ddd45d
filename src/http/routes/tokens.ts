import type { Database } from 'bun:sqlite'
import { z } from '@hono/zod-openapi'
import { createTokenService } from '../../accounts/token-service.ts'
import type { Bus } from '../../bus/bus.ts'
import { scopeSchema, tokenViewSchema } from '../../store/schema.ts'
import { getToken, listTokens } from '../../store/tokens.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { jsonBody } from './api-shared.ts'
import { deleteRoute, found, getRoute, jsonRoute, listRoute, pathParam } from './route-builders.ts'

const ScopeSchema = scopeSchema
const TokenSchema = tokenViewSchema

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
const IdParam = pathParam('id')

const list = listRoute({
  op: ['listTokens', 'List API tokens (never their secrets)'],
  item: TokenSchema,
  items: 'tokens',
})
const get = getRoute({
  path: '/{id}',
  op: ['getToken', 'Get an API token'],
  request: { params: IdParam },
  answer: [TokenSchema, 'the token'],
})
const create = jsonRoute('post', 201, {
  op: ['createToken', 'Create an API token; the secret is in this answer only'],
  request: { body: jsonBody(NewTokenSchema) },
  answer: [
    z.object({ token: TokenSchema, secret: z.string().openapi({ example: 'hth_…' }) }),
    'created; send the secret as Authorization: Bearer',
  ],
})
const revoke = deleteRoute({
  path: '/{id}',
  op: ['revokeToken', 'Revoke an API token'],
  request: { params: IdParam },
  done: 'revoked',
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

  router.openapi(get, (c) => c.json(found(getToken(db, c.req.valid('param').id), 'token'), 200))

  router.openapi(create, (c) => {
    const body = c.req.valid('json')
    const p = c.var.principal
    const createdBy = p.kind === 'user' ? p.id : `token:${p.id}`
    return c.json(tokens.create({ ...body, createdBy }), 201)
  })

  router.openapi(revoke, (c) => {
    found(tokens.revoke(c.req.valid('param').id), 'token')
    return c.body(null, 204)
  })
  return router
}
