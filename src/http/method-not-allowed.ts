import type { Hono } from 'hono'
import { PatternRouter } from 'hono/router/pattern-router'

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const

/**
 * The methods a path has handlers for, to answer 405 with `Allow` instead of 404 when only the
 * method is wrong (RFC 9110 §15.5.6). Middleware (`use`, method ALL) does not count.
 */
export function createAllowedMethods(app: Hono<never> | Hono): (path: string) => string[] {
  let router: PatternRouter<string> | undefined
  return (path) => {
    // Built on first use: every route is registered by then.
    if (!router) {
      router = new PatternRouter<string>()
      for (const r of app.routes) if (r.method !== 'ALL') router.add(r.method, r.path, r.method)
    }
    const r = router
    const allowed = METHODS.filter((m) => r.match(m, path)[0].length > 0)
    return allowed.includes('GET') ? [...allowed, 'HEAD'] : allowed
  }
}
