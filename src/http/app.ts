import { Hono, type MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { cors } from 'hono/cors'
import { HTTPException } from 'hono/http-exception'
import { secureHeaders } from 'hono/secure-headers'
import { Errors, HubError, toErrorBody } from '../errors.ts'
import type { Logger } from '../log.ts'
import { type ApiMount, createApi } from './api.ts'
import { createAllowedMethods } from './method-not-allowed.ts'

interface HealthProbe {
  /** Name shown in `/readyz`. */
  name: string
  check(): boolean
}

interface AppDeps {
  log: Logger
  maxBodyBytes: number
  corsOrigins: string[]
  readiness: HealthProbe[]
  /** Runs before everything else, for every request (request metrics). */
  middleware?: readonly MiddlewareHandler[]
  /** Resource routers mounted under `/api/v1`. */
  api?: readonly ApiMount[]
  /** Other top-level routes (`/hooks`, `/ingest`, `/metrics`, the console), mounted at their path. */
  routes?: readonly RouteMount[]
}

/** A top-level route outside `/api/v1`, mounted at its path in order. */
export interface RouteMount {
  path: string
  // biome-ignore lint/suspicious/noExplicitAny: routers carry their own Env types; app.route accepts any
  router: Hono<any>
}

/** The Hono app: middleware, the error handler and the routes every later issue mounts on. */
export function createApp(deps: AppDeps) {
  const log = deps.log.child('http')
  const app = new Hono()

  for (const m of deps.middleware ?? []) app.use('*', m)
  app.use('*', secureHeaders())
  if (deps.corsOrigins.length) app.use('*', cors({ origin: deps.corsOrigins, credentials: true }))
  app.use(
    '*',
    bodyLimit({
      maxSize: deps.maxBodyBytes,
      onError: () => {
        throw Errors.tooLarge(deps.maxBodyBytes)
      },
    }),
  )

  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/readyz', (c) => {
    const checks = Object.fromEntries(deps.readiness.map((p) => [p.name, safeCheck(p)]))
    const ready = Object.values(checks).every(Boolean)
    return c.json({ status: ready ? 'ok' : 'unavailable', checks }, ready ? 200 : 503)
  })

  app.route('/api/v1', createApi(deps.api ?? []))
  for (const r of deps.routes ?? []) app.route(r.path, r.router)

  const allowedMethods = createAllowedMethods(app)
  app.notFound((c) => {
    const allowed = allowedMethods(c.req.path)
    if (allowed.length) c.header('Allow', allowed.join(', '))
    const err = allowed.length ? Errors.methodNotAllowed(allowed) : Errors.routeNotFound()
    const { status, body } = toErrorBody(err)
    return c.json(body, status)
  })
  app.onError((err, c) => {
    // Hono's validator throws HTTPException(400) on a body that is not JSON.
    if (err instanceof HTTPException && err.status === 400) err = Errors.badJson()
    // @hono/zod-openapi throws HTTPException(415) when the body is not of a declared media type.
    if (err instanceof HTTPException && err.status === 415) {
      err = Errors.unsupportedType(c.req.header('content-type') ?? '')
    }
    if (!(err instanceof HubError)) log.error('unhandled', { err, path: c.req.path })
    const { status, body } = toErrorBody(err)
    return c.json(body, status)
  })
  return app
}

export type App = ReturnType<typeof createApp>

function safeCheck(p: HealthProbe): boolean {
  try {
    return p.check()
  } catch {
    return false
  }
}
