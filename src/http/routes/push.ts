import type { Database } from 'bun:sqlite'
import { z } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import { pushActionSchema } from '../../actions/push.ts'
import { PLATFORMS } from '../../bridges/fcm/message.ts'
import { type Push, PushRefused } from '../../bridges/fcm/push.ts'
import {
  getPushToken,
  listPushTokens,
  type PushToken,
  registerPushToken,
  removePushTokens,
  tokenRegistrationSchema,
} from '../../bridges/fcm/tokens.ts'
import {
  type PushSendView,
  type PushTokenView,
  pushPauseViewSchema,
  pushSendViewSchema,
  pushTokenViewSchema,
} from '../../bridges/fcm/views.ts'
import type { Bus } from '../../bus/bus.ts'
import { type CredentialCache, createCredentialCache } from '../../devices/credentials.ts'
import { getDevice } from '../../devices/registry.ts'
import { Errors, invalidFrom } from '../../errors.ts'
import { type ApiEnv, createRouter, type Principal } from '../api.ts'
import { createDeviceAuthenticator, parseBasic } from '../auth/device.ts'
import type { RequireAuth, Scope } from '../auth/middleware.ts'
import { jsonBody } from './api-shared.ts'
import {
  deleteRoute,
  found,
  getRoute,
  jsonRoute,
  listRoute,
  pageOf,
  pagingQuery,
  pathParam,
  upsertRoute,
} from './route-builders.ts'

interface PushRoutesDeps {
  db: Database
  bus: Bus
  push: Push
  requireAuth: RequireAuth
  credentials?: CredentialCache
  now?: () => number
}

const TokenQuery = z.object({
  device: z.string().optional(),
  user: z.string().optional(),
  label: z.string().optional(),
  platform: z.enum(PLATFORMS).optional(),
  ...pagingQuery(1000, 100),
})

const IdParam = pathParam('id', { description: 'token id, or the token' }, z.string().min(1))
const TargetParam = pathParam(
  'target',
  { example: 'all', description: 'e.g. all, label:beta' },
  z.string().min(1),
)

const BASIC = 'API token or session, or the device credentials over HTTP Basic (username = device id)'

const routes = {
  register: upsertRoute('post', {
    path: '/tokens',
    op: ['registerPushToken', 'Register an FCM registration token, or refresh one already registered'],
    description: `${BASIC}; a device registers tokens for itself only.`,
    request: { body: jsonBody(tokenRegistrationSchema) },
    item: pushTokenViewSchema,
    kept: 'refreshed',
    created: 'registered',
    also: [404],
  }),
  list: getRoute({
    path: '/tokens',
    op: ['listPushTokens', 'List registered push tokens with their age and last success, oldest first'],
    description: `${BASIC}; a device sees its own tokens.`,
    request: { query: TokenQuery },
    answer: [pageOf(pushTokenViewSchema), 'one page'],
  }),
  get: getRoute({
    path: '/tokens/{id}',
    op: ['getPushToken', 'Get a push token'],
    request: { params: IdParam },
    answer: [pushTokenViewSchema, 'the token'],
  }),
  remove: deleteRoute({
    path: '/tokens/{id}',
    op: ['deletePushToken', 'Forget a token (the app signed out or was uninstalled)'],
    description: `${BASIC}; a device deletes its own tokens only.`,
    request: { params: IdParam },
    done: 'deleted',
  }),
  send: jsonRoute('post', 202, {
    path: '/send',
    op: ['sendPush', 'Push now with the body of a push action (target, silent or notification template)'],
    request: {
      body: jsonBody(
        z.record(z.string(), z.unknown()).openapi({
          example: { label: 'beta', title: 'Hello', body: 'From Hearth', threadId: 'news' },
        }),
      ),
    },
    answer: [pushSendViewSchema, 'queued in the outbox'],
    also: [404, 409, 503],
  }),
  pauses: listRoute({
    path: '/pauses',
    op: ['listPushPauses', 'List push targets paused because more than half of a batch came back dead'],
    item: pushPauseViewSchema,
    items: 'paused targets',
  }),
  resume: deleteRoute({
    path: '/pauses/{target}',
    op: ['resumePushTarget', 'Resume a paused target (its refused batches stay dead letters to replay)'],
    request: { params: TargetParam },
    done: 'resumed',
  }),
}

/** `/api/v1/push`: the token registry, sends, paused targets. */
export function createPushRoutes(deps: PushRoutesDeps) {
  const { db, bus, push } = deps
  const now = deps.now ?? Date.now
  const authenticateDevice = createDeviceAuthenticator({
    db,
    credentials: deps.credentials ?? createCredentialCache(),
    now,
  })
  const router = createRouter()

  // Phones register their own token with the credentials their device already has, the way
  // /ingest authenticates sensors; people and scripts use API tokens or the console session.
  const deviceOrToken =
    (scope: Scope): MiddlewareHandler<ApiEnv> =>
    async (c, next) => {
      const header = c.req.header('authorization')
      if (!parseBasic(header)) return deps.requireAuth(scope)(c, next)
      const auth = await authenticateDevice(header)
      if ('error' in auth) throw auth.error
      c.set('principal', { kind: 'device', id: auth.device, scope: 'write' })
      await next()
    }
  const ownDevice = (p: Principal) => (p.kind === 'device' ? p.id : undefined)
  /** The token, when it exists and the caller may see it (a device sees its own only). */
  const ownToken = (id: string, p: Principal) => {
    const token = getPushToken(db, id)
    const self = ownDevice(p)
    if (!token || (self !== undefined && token.device !== self)) throw Errors.notFound('push token')
    return token
  }

  router.openapi({ ...routes.register, middleware: [deviceOrToken('write')] as const }, (c) => {
    const input = c.req.valid('json')
    const self = ownDevice(c.var.principal)
    if (self !== undefined && input.device !== undefined && input.device !== self) throw Errors.forbidden()
    const device = self ?? input.device
    if (device !== undefined && !getDevice(db, device)) throw Errors.notFound('device')
    const { token, created } = registerPushToken(
      db,
      { ...input, ...(device !== undefined ? { device } : {}) },
      now(),
    )
    bus.emit(
      'push.token_registered',
      {
        id: token.id,
        platform: token.platform,
        device: token.device,
        user: token.user,
        labels: token.labels,
        created,
      },
      { subject: token.id },
    )
    return c.json(view(token, now()), created ? 201 : 200)
  })

  router.openapi({ ...routes.list, middleware: [deviceOrToken('read')] as const }, (c) => {
    const q = c.req.valid('query')
    const self = ownDevice(c.var.principal)
    const page = listPushTokens(db, { ...q, ...(self !== undefined ? { device: self } : {}) })
    const t = now()
    return c.json({ ...page, items: page.items.map((x) => view(x, t)) }, 200)
  })

  router.openapi({ ...routes.get, middleware: [deviceOrToken('read')] as const }, (c) => {
    const token = ownToken(c.req.valid('param').id, c.var.principal)
    return c.json(view(token, now()), 200)
  })

  router.openapi({ ...routes.remove, middleware: [deviceOrToken('write')] as const }, (c) => {
    const token = ownToken(c.req.valid('param').id, c.var.principal)
    removePushTokens(db, [token.token])
    bus.emit('push.token_removed', { id: token.id, reason: 'api' }, { subject: token.id })
    return c.body(null, 204)
  })

  router.openapi({ ...routes.send, middleware: [deps.requireAuth('write')] as const }, async (c) => {
    const parsed = pushActionSchema.safeParse({ ...c.req.valid('json'), type: 'push' })
    if (!parsed.success) throw invalidFrom(parsed.error)
    try {
      const result = (await push.executor(parsed.data, {
        source: `api:${c.var.principal.id}`,
      })) as PushSendView
      const view: PushSendView = {
        target: result.target,
        tokens: result.tokens,
        batches: result.batches,
        batchKeys: result.batchKeys,
      }
      return c.json(view, 202)
    } catch (err) {
      if (!(err instanceof PushRefused)) throw err
      if (err.reason === 'not-configured') throw Errors.unavailable(err.message)
      if (err.reason === 'not-found') throw Errors.notFound('device group')
      throw Errors.conflict(err.message)
    }
  })

  router.openapi({ ...routes.pauses, middleware: [deps.requireAuth('read')] as const }, (c) =>
    c.json({ items: push.pauses() }, 200),
  )

  router.openapi({ ...routes.resume, middleware: [deps.requireAuth('write')] as const }, (c) => {
    found(push.resume(c.req.valid('param').target), 'paused push target')
    return c.body(null, 204)
  })

  return router
}

function view(t: PushToken, now: number): PushTokenView {
  return { ...t, ageMs: Math.max(0, now - t.updatedAt) }
}
