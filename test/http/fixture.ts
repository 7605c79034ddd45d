import { Database } from 'bun:sqlite'
import { createBroker } from '../../src/broker/broker.ts'
import { createBus } from '../../src/bus/bus.ts'
import { createApp } from '../../src/http/app.ts'
import type { LoginThrottle } from '../../src/http/auth/login-limiter.ts'
import { createRequireAuth } from '../../src/http/auth/middleware.ts'
import { createCoreApi } from '../../src/http/routes/core-api.ts'
import { silentLogger } from '../../src/log.ts'
import { createEventLog } from '../../src/store/event-log.ts'
import { migrate } from '../../src/store/migrate.ts'
import { createToken, type TokenScope } from '../../src/store/tokens.ts'
import { createUser } from '../../src/store/users.ts'

export const ADMIN_PASSWORD = 'admin-password-1'

export interface ApiFixtureOptions {
  now?: () => number
  throttle?: LoginThrottle
  corsOrigins?: string[]
  maxBodyBytes?: number
  secureCookie?: boolean
}

/** The app with the core API over an in-memory database and an unstarted-socket broker; routes in-process. */
export async function createApiFixture(opts: ApiFixtureOptions = {}) {
  const now = opts.now ?? Date.now
  const db = new Database(':memory:', { strict: true })
  db.run('PRAGMA foreign_keys = ON')
  migrate(db)
  const log = silentLogger()
  const bus = createBus(log, now)
  const eventLog = createEventLog({ db, bus, log, retentionMs: 86_400_000 * 365, now })
  const broker = createBroker({ log })
  const abort = new AbortController()
  const ctx = {
    signal: abort.signal,
    fail: (err: unknown) => {
      throw err
    },
  }
  await broker.start(ctx)
  await eventLog.start(ctx)
  const requireAuth = createRequireAuth({ db, now })
  const app = createApp({
    log,
    maxBodyBytes: opts.maxBodyBytes ?? 64 * 1024,
    corsOrigins: opts.corsOrigins ?? [],
    readiness: [],
    api: createCoreApi({
      db,
      bus,
      broker,
      requireAuth,
      sessionTtlMs: 3_600_000,
      secureCookie: opts.secureCookie ?? false,
      now,
      ...(opts.throttle ? { throttle: opts.throttle } : {}),
    }),
  })
  await createUser(db, 'admin', ADMIN_PASSWORD, 'admin', now())

  const request = (path: string, init: RequestInit = {}, env?: unknown) =>
    app.request(path, init, env as never)

  return {
    db,
    bus,
    broker,
    app,
    request,
    /** A bearer header for a fresh token of this scope. */
    bearer(scope: TokenScope): Record<string, string> {
      const { secret } = createToken(db, { name: `test-${scope}`, scope })
      return { authorization: `Bearer ${secret}` }
    },
    /** Logs in and returns the cookie header and the CSRF token. */
    async login(username = 'admin', password = ADMIN_PASSWORD) {
      const res = await request('/api/v1/auth/login', json({ username, password }))
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`)
      const body = (await res.json()) as { csrfToken: string }
      const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
      return { cookie, csrfToken: body.csrfToken, setCookie: res.headers.get('set-cookie') ?? '' }
    },
    async [Symbol.asyncDispose]() {
      await eventLog.stop()
      await broker.stop()
      abort.abort()
      db.close()
    },
  }
}

/** A POST (or other method) with a JSON body. */
export function json(body: unknown, init: RequestInit & { method?: string } = {}): RequestInit {
  return {
    method: 'POST',
    ...init,
    headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
    body: JSON.stringify(body),
  }
}
