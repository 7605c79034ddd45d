import type { Database } from 'bun:sqlite'
import type { Broker } from '../../broker/broker.ts'
import type { Bus } from '../../bus/bus.ts'
import type { ApiMount } from '../api.ts'
import type { LoginThrottle } from '../auth/login-limiter.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { createAuthRoutes } from './auth.ts'
import { createDeviceRoutes } from './devices.ts'
import { createEventRoutes } from './events.ts'
import { createPublishRoutes } from './publish.ts'
import { createRetainedRoutes } from './retained.ts'
import { createTokenRoutes } from './tokens.ts'
import { createUserRoutes } from './users.ts'

interface CoreApiDeps {
  db: Database
  bus: Bus
  broker: Broker
  requireAuth: RequireAuth
  sessionTtlMs: number
  secureCookie: boolean
  throttle?: LoginThrottle
  /** Called after a user's password changed, by an admin or by the user. */
  onPasswordChanged?: (username: string) => void
  /** The MQTT listeners' ports, shown in a preset's connection settings. */
  mqttPorts?: () => { mqtt: number; mqttTls: number | undefined }
  now?: () => number
}

/** The core `/api/v1` resources: everything that is not webhooks or the outbox. */
export function createCoreApi(deps: CoreApiDeps): ApiMount[] {
  const now = deps.now ?? Date.now
  const { db, bus, broker, requireAuth } = deps
  const onPasswordChanged = deps.onPasswordChanged ? { onPasswordChanged: deps.onPasswordChanged } : {}
  return [
    {
      path: '/auth',
      router: createAuthRoutes({
        db,
        bus,
        requireAuth,
        sessionTtlMs: deps.sessionTtlMs,
        secureCookie: deps.secureCookie,
        now,
        ...(deps.throttle ? { throttle: deps.throttle } : {}),
        ...onPasswordChanged,
      }),
    },
    { path: '/users', router: createUserRoutes({ db, bus, requireAuth, now, ...onPasswordChanged }) },
    { path: '/tokens', router: createTokenRoutes({ db, bus, requireAuth, now }) },
    {
      path: '/devices',
      router: createDeviceRoutes({
        db,
        bus,
        requireAuth,
        now,
        ...(deps.mqttPorts ? { mqttPorts: deps.mqttPorts } : {}),
      }),
    },
    { path: '/events', router: createEventRoutes({ db, requireAuth }) },
    { path: '/retained', router: createRetainedRoutes({ broker, requireAuth }) },
    { path: '/publish', router: createPublishRoutes({ broker, requireAuth }) },
  ]
}
