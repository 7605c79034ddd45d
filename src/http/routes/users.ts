import type { Database } from 'bun:sqlite'
import { z } from '@hono/zod-openapi'
import { createUserService } from '../../accounts/user-service.ts'
import type { Bus } from '../../bus/bus.ts'
import { userViewSchema } from '../../store/schema.ts'
import { findUser, listUsers } from '../../store/users.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { jsonBody } from './api-shared.ts'
import { deleteRoute, found, getRoute, jsonRoute, listRoute, pathParam } from './route-builders.ts'

/** Roles a person can have: admins change everything, viewers only read. */
const RoleSchema = z.enum(['admin', 'viewer'])

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

const NameParam = pathParam('username')

const list = listRoute({ op: ['listUsers', 'List users'], item: UserSchema, items: 'users' })
const get = getRoute({
  path: '/{username}',
  op: ['getUser', 'Get a user'],
  request: { params: NameParam },
  answer: [UserSchema, 'the user'],
})
const create = jsonRoute('post', 201, {
  op: ['createUser', 'Add a user'],
  request: { body: jsonBody(NewUserSchema) },
  answer: [
    z.object({ user: UserSchema, password: z.string().optional() }),
    'created; `password` only when generated',
  ],
  also: [409],
})
const update = jsonRoute('patch', 200, {
  path: '/{username}',
  op: ['updateUser', 'Change a role or password (a new password ends the user’s sessions)'],
  request: { params: NameParam, body: jsonBody(UserPatchSchema) },
  answer: [UserSchema, 'the user'],
  also: [409],
})
const remove = deleteRoute({
  path: '/{username}',
  op: ['deleteUser', 'Remove a user (never the last admin)'],
  request: { params: NameParam },
  done: 'removed',
  also: [409],
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

  router.openapi(get, (c) => c.json(found(findUser(db, c.req.valid('param').username), 'user'), 200))

  router.openapi(create, async (c) => {
    const { user, password } = await users.create(c.req.valid('json'))
    return c.json({ user, ...(password ? { password } : {}) }, 201)
  })

  router.openapi(update, async (c) => {
    const updated = await users.update(c.req.valid('param').username, c.req.valid('json'))
    return c.json(found(updated, 'user').user, 200)
  })

  router.openapi(remove, (c) => {
    found(users.remove(c.req.valid('param').username), 'user')
    return c.body(null, 204)
  })
  return router
}
