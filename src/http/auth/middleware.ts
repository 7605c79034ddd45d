import type { Database } from 'bun:sqlite'
import { timingSafeEqual } from 'node:crypto'
import type { Context, MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { Errors } from '../../errors.ts'
import { findSession } from '../../store/sessions.ts'
import { findTokenBySecret, type TokenScope, touchToken } from '../../store/tokens.ts'
import type { ApiEnv, Principal } from '../api.ts'

/** Name of the console's session cookie (also declared as a security scheme in `api.ts`). */
export const SESSION_COOKIE = 'hearth_session'
/** Header a cookie-authenticated change must carry: the session's CSRF token. */
const CSRF_HEADER = 'X-CSRF-Token'

export type Scope = TokenScope
export type RequireAuth = (scope: Scope) => MiddlewareHandler<ApiEnv>

const RANK: Record<Scope, number> = { read: 1, write: 2, admin: 3 }
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** Whether `have` grants what `need` asks (admin ⊃ write ⊃ read). */
export function allows(have: Scope, need: Scope): boolean {
  return RANK[have] >= RANK[need]
}

/** The API scope a user's role carries: admins may do anything, viewers only read. */
export function scopeOfRole(role: string): Scope {
  return role === 'admin' ? 'admin' : 'read'
}

interface AuthDeps {
  db: Database
  now?: () => number
}

/**
 * Builds `requireAuth(scope)`: a middleware that accepts `Authorization: Bearer hth_…` or the
 * session cookie, sets `c.var.principal`, and refuses cookie-authenticated changes without the
 * session's CSRF token (double submit bound to the session; SameSite=Strict is the first line).
 */
export function createRequireAuth(deps: AuthDeps): RequireAuth {
  const now = deps.now ?? Date.now
  const authenticate = (c: Context): Principal | undefined => {
    const header = c.req.header('authorization')
    if (header !== undefined) {
      // A present but wrong Authorization header is refused even when a cookie is also sent.
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
      const token = match?.[1] ? findTokenBySecret(deps.db, match[1]) : undefined
      if (!token) throw Errors.unauthenticated()
      // A device-scoped token posts that device's readings and nothing else.
      if (token.device !== null) throw Errors.forbidden()
      touchToken(deps.db, token, now())
      return { kind: 'token', id: token.id, scope: token.scope }
    }
    const cookie = getCookie(c, SESSION_COOKIE)
    if (!cookie) return undefined
    const session = findSession(deps.db, cookie, now())
    if (!session) return undefined
    if (!SAFE_METHODS.has(c.req.method) && !sameSecret(c.req.header(CSRF_HEADER), session.csrfToken)) {
      throw Errors.csrf()
    }
    return { kind: 'user', id: session.username, scope: scopeOfRole(session.role), viaCookie: true }
  }

  return (scope) => async (c, next) => {
    const principal = authenticate(c)
    if (!principal) throw Errors.unauthenticated()
    if (!allows(principal.scope, scope)) throw Errors.forbidden()
    c.set('principal', principal)
    await next()
  }
}

/** Constant-time comparison of a presented secret with the expected one. */
function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}
