import type { Database } from 'bun:sqlite'
import { z } from '@hono/zod-openapi'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { createUserService } from '../../accounts/user-service.ts'
import type { Bus } from '../../bus/bus.ts'
import { Errors } from '../../errors.ts'
import { scopeSchema } from '../../store/schema.ts'
import { createSession, deleteSession, findSession, pruneSessions } from '../../store/sessions.ts'
import { findUser, verifyUser } from '../../store/users.ts'
import { createRouter } from '../api.ts'
import { clientAddress } from '../auth/client-address.ts'
import { createLoginThrottle, type LoginThrottle } from '../auth/login-limiter.ts'
import { type RequireAuth, SESSION_COOKIE } from '../auth/middleware.ts'
import { jsonBody } from './api-shared.ts'
import { getRoute, jsonRoute, noContentRoute } from './route-builders.ts'
import { password, UserSchema } from './users.ts'

interface AuthRoutesDeps {
  db: Database
  bus: Bus
  requireAuth: RequireAuth
  /** Defaults to the standard back-off per (user, address) and per address. */
  throttle?: LoginThrottle
  sessionTtlMs: number
  /** Mark the cookie Secure: set when the hub serves HTTPS. */
  secureCookie: boolean
  /** Called after a user changed their own password. */
  onPasswordChanged?: (username: string) => void
  now?: () => number
}

const LoginSchema = z
  .object({ username: z.string().min(1).max(128), password: z.string().min(1).max(1024) })
  .openapi('Login')

const SessionSchema = z
  .object({
    user: UserSchema,
    csrfToken: z
      .string()
      .openapi({ description: 'send as X-CSRF-Token on every change made with the cookie' }),
    expiresAt: z.number().int(),
  })
  .openapi('Session')

/** Who is asking: the console's `GET /auth/me`. */
const MeSchema = z
  .object({
    principal: z.object({
      kind: z.enum(['user', 'token', 'device']),
      id: z.string(),
      scope: scopeSchema,
    }),
    user: UserSchema.optional(),
    csrfToken: z.string().optional(),
  })
  .openapi('Me')
export type MeView = z.infer<typeof MeSchema>

const login = jsonRoute('post', 200, {
  path: '/login',
  op: ['login', 'Log in: set the session cookie and return the CSRF token'],
  security: [],
  request: { body: jsonBody(LoginSchema) },
  answer: [SessionSchema, 'logged in'],
  // Anyone may log in: no 403, but too many failures answer 429.
  errors: [400, 401, 429],
})

const logout = noContentRoute('post', {
  path: '/logout',
  op: ['logout', 'End the current session'],
  done: 'logged out',
})

const PasswordChangeSchema = z
  .object({ currentPassword: z.string().min(1).max(1024), newPassword: password() })
  .openapi('PasswordChange')

const changePassword = noContentRoute('post', {
  path: '/password',
  op: [
    'changeOwnPassword',
    'Change the logged-in user’s own password (the current one is asked; other sessions end)',
  ],
  request: { body: jsonBody(PasswordChangeSchema) },
  done: 'changed',
  also: [429],
})

// Any authenticated caller may ask who it is: no 403.
const me = getRoute({
  path: '/me',
  op: ['getMe', 'Tell who the caller is'],
  answer: [MeSchema, 'the caller'],
  errors: [401],
})

/** `/auth`: login with back-off, logout, and who-am-I. */
export function createAuthRoutes(deps: AuthRoutesDeps) {
  const now = deps.now ?? Date.now
  const throttle = deps.throttle ?? createLoginThrottle({ now })
  const users = createUserService({
    db: deps.db,
    bus: deps.bus,
    now,
    ...(deps.onPasswordChanged ? { onPasswordChanged: deps.onPasswordChanged } : {}),
  })
  const router = createRouter()
  router.use('/logout', deps.requireAuth('read'))
  router.use('/me', deps.requireAuth('read'))
  router.use('/password', deps.requireAuth('read'))

  router.openapi(login, async (c) => {
    const { username, password } = c.req.valid('json')
    const address = clientAddress(c)
    const wait = throttle.retryAfter(username, address)
    if (wait > 0) {
      deps.bus.emit('auth.login_failed', { username, address, reason: 'throttled' }, { subject: username })
      c.header('Retry-After', String(wait))
      throw Errors.tooManyRequests(wait)
    }
    const user = await verifyUser(deps.db, username, password)
    if (!user) {
      const lockouts = throttle.fail(username, address)
      deps.bus.emit(
        'auth.login_failed',
        { username, address, reason: 'bad_credentials' },
        { subject: username },
      )
      for (const l of lockouts)
        deps.bus.emit('auth.lockout', { username, address, ...l }, { subject: username })
      throw Errors.badCredentials()
    }
    throttle.succeed(username, address)
    // Expired rows go when someone logs in: no timer, and the table stays as small as its live sessions.
    pruneSessions(deps.db, now())
    const session = createSession(deps.db, user.id, deps.sessionTtlMs, now())
    setCookie(c, SESSION_COOKIE, session.token, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: deps.secureCookie,
      path: '/',
      maxAge: Math.floor(deps.sessionTtlMs / 1000),
    })
    deps.bus.emit('auth.login', { username, address }, { subject: username })
    return c.json({ user, csrfToken: session.csrfToken, expiresAt: session.expiresAt }, 200)
  })

  router.openapi(logout, (c) => {
    const token = getCookie(c, SESSION_COOKIE)
    if (token) deleteSession(deps.db, token)
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: deps.secureCookie })
    const p = c.var.principal
    if (p.kind === 'user') deps.bus.emit('auth.logout', { username: p.id }, { subject: p.id })
    return c.body(null, 204)
  })

  router.openapi(changePassword, async (c) => {
    const principal = c.var.principal
    // An API token belongs to no person: it has no password to change.
    if (principal.kind !== 'user') throw Errors.forbidden()
    const { currentPassword, newPassword } = c.req.valid('json')
    const username = principal.id
    const address = clientAddress(c)
    // A stolen session must not become a way to guess the password faster than the login form.
    const wait = throttle.retryAfter(username, address)
    if (wait > 0) {
      c.header('Retry-After', String(wait))
      throw Errors.tooManyRequests(wait)
    }
    const user = await verifyUser(deps.db, username, currentPassword)
    if (!user) {
      for (const l of throttle.fail(username, address))
        deps.bus.emit('auth.lockout', { username, address, ...l }, { subject: username })
      throw Errors.wrongPassword()
    }
    throttle.succeed(username, address)
    // Every other session of this user ends; the one that asked stays logged in.
    await users.update(username, { password: newPassword, keepSession: getCookie(c, SESSION_COOKIE) })
    return c.body(null, 204)
  })

  router.openapi(me, (c) => {
    const principal = c.var.principal
    const user = principal.kind === 'user' ? findUser(deps.db, principal.id) : undefined
    const token = principal.viaCookie ? getCookie(c, SESSION_COOKIE) : undefined
    const session = token ? findSession(deps.db, token, now()) : undefined
    return c.json(
      {
        principal: { kind: principal.kind, id: principal.id, scope: principal.scope },
        ...(user ? { user } : {}),
        // A reloaded console has the cookie but lost the CSRF token; this gives it back.
        ...(session ? { csrfToken: session.csrfToken } : {}),
      },
      200,
    )
  })
  return router
}
