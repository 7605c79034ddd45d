import type { Database } from 'bun:sqlite'
import { createRoute, z } from '@hono/zod-openapi'
import { createUserService } from '../../accounts/user-service.ts'
import type { Bus } from '../../bus/bus.ts'
import { Errors } from '../../errors.ts'
import { userViewSchema } from '../../store/schema.ts'
import { findUser, listUsers } from '../../store/users.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { errorResponses, jsonBody, jsonResponse } from './api-shared.ts'

/** Roles a person can have: admins change everything, viewers only read. */
export const RoleSchema = z.enum(['admin', 'viewer'])

export const UserSchema = userViewSchema

const username = () =>
  z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._@-]+$/, 'letters, digits and . _ @ - only')

/** A password a person chooses: at least 8 characters. */
export const password = () => z.string().min(8).max(1024)

const NewUserSchema = z
  .object({
    username: username(),
    role: RoleSchema.default('viewer'),
    password: password().optional().openapi({ description: 'generated and returned once when absent' }),
  })
  .openapi('NewUser')

const UserPatchSchema = z
  .object({ role: RoleSchema.optional(), password: password().optional() })
  .openapi('UserPatch')

const NameParam = z.object({ username: z.string().openapi({ param: { name: 'username', in: 'path' } }) })

const list = createRoute({
  method: 'get',
  path: '/',
  operationId: 'listUsers',
  summary: 'List users',
  responses: {
    200: jsonResponse(z.object({ items: z.array(UserSchema) }), 'users'),
    ...errorResponses(401, 403),
  },
})
const get = createRoute({
  method: 'get',
  path: '/{username}',
  operationId: 'getUser',
  summary: 'Get a user',
  request: { params: NameParam },
  responses: { 200: jsonResponse(UserSchema, 'the user'), ...errorResponses(401, 403, 404) },
})
const create = createRoute({
  method: 'post',
  path: '/',
  operationId: 'createUser',
  summary: 'Add a user',
  request: { body: jsonBody(NewUserSchema) },
  responses: {
    201: jsonResponse(
      z.object({ user: UserSchema, password: z.string().optional() }),
      'created; `password` only when generated',
    ),
    ...errorResponses(400, 401, 403, 409),
  },
})
const update = createRoute({
  method: 'patch',
  path: '/{username}',
  operationId: 'updateUser',
  summary: 'Change a role or password (a new password ends the user’s sessions)',
  request: { params: NameParam, body: jsonBody(UserPatchSchema) },
  responses: { 200: jsonResponse(UserSchema, 'the user'), ...errorResponses(400, 401, 403, 404, 409) },
})
const remove = createRoute({
  method: 'delete',
  path: '/{username}',
  operationId: 'deleteUser',
  summary: 'Remove a user (never the last admin)',
  request: { params: NameParam },
  responses: { 204: { description: 'removed' }, ...errorResponses(401, 403, 404, 409) },
})

/** `/users`: people who log in to the console; admin scope only. */
export function createUserRoutes(deps: {
  db: Database
  bus: Bus
  requireAuth: RequireAuth
  /** Called after a user's password changed (the hub forgets the first-start password file). */
  onPasswordChanged?: (username: string) => void
  now?: () => number
}) {
  const { db } = deps
  const users = createUserService({
    db,
    bus: deps.bus,
    now: deps.now ?? Date.now,
    ...(deps.onPasswordChanged ? { onPasswordChanged: deps.onPasswordChanged } : {}),
  })
  const router = createRouter()
  router.use('*', deps.requireAuth('admin'))

  router.openapi(list, (c) => c.json({ items: listUsers(db) }, 200))

  router.openapi(get, (c) => {
    const user = findUser(db, c.req.valid('param').username)
    if (!user) throw Errors.notFound('user')
    return c.json(user, 200)
  })

  router.openapi(create, async (c) => {
    const { user, password } = await users.create(c.req.valid('json'))
    return c.json({ user, ...(password ? { password } : {}) }, 201)
  })

  router.openapi(update, async (c) => {
    const updated = await users.update(c.req.valid('param').username, c.req.valid('json'))
    if (!updated) throw Errors.notFound('user')
    return c.json(updated.user, 200)
  })

  router.openapi(remove, (c) => {
    if (!users.remove(c.req.valid('param').username)) throw Errors.notFound('user')
    return c.body(null, 204)
  })
  return router
}
