import { z } from '@hono/zod-openapi'
import {
  targetCreateSchema,
  targetUpdateSchema,
  targetView,
  targetViewSchema,
} from '../../bridges/webhook/schema.ts'
import type { TargetRegistry } from '../../bridges/webhook/targets.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { definitionRoutes, listReport } from './definition-routes.ts'
import { found, pathParam } from './route-builders.ts'

// Rebuilt here: schemas made before @hono/zod-openapi loaded have no `.openapi()`.
const TargetSchema = z.object(targetViewSchema.shape).openapi('WebhookTarget')
const NameParam = pathParam('name', { example: 'alerts' })

const routes = definitionRoutes({
  noun: 'target',
  item: TargetSchema,
  created: { key: 'target', name: 'CreatedWebhookTarget' },
  create: targetCreateSchema,
  update: targetUpdateSchema,
  param: NameParam,
  operations: {
    list: ['listWebhookTargets', 'List outbound webhook targets, from the config file and the API'],
    create: [
      'createWebhookTarget',
      'Create a target (admin); a missing secret is generated and shown once, null sends unsigned',
    ],
    get: ['getWebhookTarget', 'Get one target'],
    update: [
      'replaceWebhookTarget',
      'Replace an API-defined target (admin); a missing secret keeps the old one',
    ],
    remove: [
      'deleteWebhookTarget',
      'Delete an API-defined target (admin); its queued deliveries become dead letters',
    ],
  },
})

/** `/api/v1/webhook-targets`: MQTT topic filter → HTTP POST targets. */
export function createWebhookTargetsApi(deps: { targets: TargetRegistry; requireAuth: RequireAuth }) {
  const { targets } = deps
  const router = createRouter()
  router.use('*', deps.requireAuth('read'))
  const admin = deps.requireAuth('admin')

  router.openapi(routes.list, (c) =>
    c.json({ items: targets.list().map(targetView), ...listReport(targets.report()) }, 200),
  )
  router.openapi({ ...routes.create, middleware: [admin] as const }, (c) => {
    const { target, generatedSecret } = targets.create(c.req.valid('json'))
    return c.json(
      { target: targetView(target), ...(generatedSecret ? { secret: generatedSecret } : {}) },
      201,
    )
  })
  router.openapi(routes.get, (c) =>
    c.json(targetView(found(targets.get(c.req.valid('param').name), 'webhook target')), 200),
  )
  router.openapi({ ...routes.update, middleware: [admin] as const }, (c) =>
    c.json(targetView(targets.update(c.req.valid('param').name, c.req.valid('json'))), 200),
  )
  router.openapi({ ...routes.remove, middleware: [admin] as const }, (c) => {
    targets.remove(c.req.valid('param').name)
    return c.body(null, 204)
  })
  return router
}
