import type { Database } from 'bun:sqlite'
import { z } from '@hono/zod-openapi'
import { Hono } from 'hono'
import { type HookDeliveryView, hookDeliveryViewSchema } from '../../hooks/delivery-schema.ts'
import type { HookReceiver } from '../../hooks/receiver.ts'
import type { HookRegistry } from '../../hooks/registry.ts'
import { hookCreateSchema, hookUpdateSchema, hookView, hookViewSchema } from '../../hooks/schema.ts'
import { getDelivery, type HookDelivery, listDeliveries } from '../../hooks/store.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { definitionRoutes, listReport } from './definition-routes.ts'
import { describePayload } from './mqtt-payload.ts'
import { found, getRoute, jsonRoute, limitQuery, pageOf, pathParam, serialParam } from './route-builders.ts'

/** `/hooks/:name`: the public endpoint third parties post to. */
export function createHookEndpoint(deps: { receiver: HookReceiver }) {
  const router = new Hono()
  router.post('/:name', async (c) => {
    const body = new Uint8Array(await c.req.arrayBuffer())
    const reply = await deps.receiver.receive({
      name: c.req.param('name'),
      headers: c.req.raw.headers,
      query: new URL(c.req.url).searchParams,
      body,
    })
    return c.json(reply, 200)
  })
  return router
}

const NameParam = pathParam('name', { example: 'github' })
const DeliveryParams = NameParam.extend(serialParam('id').shape)
const PageQuery = z.object({
  limit: limitQuery(500, 50),
  cursor: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .openapi({ type: 'integer', description: '`nextCursor` of the previous page' }),
})

// Rebuilt here: schemas made before @hono/zod-openapi loaded have no `.openapi()`.
const HookSchema = z.object(hookViewSchema.shape).openapi('Hook')
const DeliveryPageSchema = pageOf(hookDeliveryViewSchema).openapi('HookDeliveryPage')

const routes = {
  ...definitionRoutes({
    noun: 'hook',
    item: HookSchema,
    created: { key: 'hook', name: 'CreatedHook' },
    create: hookCreateSchema,
    update: hookUpdateSchema,
    param: NameParam,
    operations: {
      list: ['listHooks', 'List inbound hooks, from the config file and the API'],
      create: ['createHook', 'Create an inbound hook (admin); a missing secret is generated and shown once'],
      get: ['getHook', 'Get one inbound hook'],
      update: ['replaceHook', 'Replace an API-defined hook (admin); a missing secret keeps the old one'],
      remove: ['deleteHook', 'Delete an API-defined hook (admin)'],
    },
  }),
  deliveries: getRoute({
    path: '/{name}/deliveries',
    op: ['listHookDeliveries', "List a hook's captured deliveries, newest first"],
    request: { params: NameParam, query: PageQuery },
    answer: [DeliveryPageSchema, 'one page'],
  }),
  delivery: getRoute({
    path: '/{name}/deliveries/{id}',
    op: ['getHookDelivery', 'Get one captured delivery'],
    request: { params: DeliveryParams },
    answer: [hookDeliveryViewSchema, 'the delivery'],
  }),
  replay: jsonRoute('post', 200, {
    path: '/{name}/deliveries/{id}/replay',
    op: ['replayHookDelivery', 'Publish a captured delivery again with the current mapping (write)'],
    request: { params: DeliveryParams },
    answer: [hookDeliveryViewSchema, 'the new capture'],
    also: [409, 503],
  }),
}

interface HooksApiDeps {
  registry: HookRegistry
  receiver: HookReceiver
  db: Database
  requireAuth: RequireAuth
}

/** `/api/v1/hooks`: hook definitions (admin to change), captured deliveries and replay. */
export function createHooksApi(deps: HooksApiDeps) {
  const router = createRouter()
  const { registry } = deps
  router.use('*', deps.requireAuth('read'))
  const admin = deps.requireAuth('admin')
  const write = deps.requireAuth('write')
  const hookOr404 = (name: string) => found(registry.get(name), 'hook')

  router.openapi(routes.list, (c) =>
    c.json({ items: registry.list().map(hookView), ...listReport(registry.report()) }, 200),
  )
  router.openapi({ ...routes.create, middleware: [admin] as const }, (c) => {
    const { hook, generatedSecret } = registry.create(c.req.valid('json'))
    return c.json({ hook: hookView(hook), ...(generatedSecret ? { secret: generatedSecret } : {}) }, 201)
  })
  router.openapi(routes.get, (c) => c.json(hookView(hookOr404(c.req.valid('param').name)), 200))
  router.openapi({ ...routes.update, middleware: [admin] as const }, (c) =>
    c.json(hookView(registry.update(c.req.valid('param').name, c.req.valid('json'))), 200),
  )
  router.openapi({ ...routes.remove, middleware: [admin] as const }, (c) => {
    registry.remove(c.req.valid('param').name)
    return c.body(null, 204)
  })
  router.openapi(routes.deliveries, (c) => {
    const { name } = c.req.valid('param')
    hookOr404(name)
    const q = c.req.valid('query')
    const page = listDeliveries(deps.db, name, { limit: q.limit, ...(q.cursor ? { cursor: q.cursor } : {}) })
    return c.json({ ...page, items: page.items.map(deliveryView) }, 200)
  })
  router.openapi(routes.delivery, (c) => {
    const { name, id } = c.req.valid('param')
    return c.json(deliveryView(found(getDelivery(deps.db, name, id), 'delivery')), 200)
  })
  router.openapi({ ...routes.replay, middleware: [write] as const }, async (c) => {
    const { name, id } = c.req.valid('param')
    return c.json(deliveryView(await deps.receiver.replay(name, id)), 200)
  })
  return router
}

function deliveryView(d: HookDelivery): HookDeliveryView {
  const { payload, encoding } = describePayload(d.body)
  return { ...d, body: payload, bodyEncoding: encoding, truncated: d.body.length < d.bodySize }
}
