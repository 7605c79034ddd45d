import type { Database } from 'bun:sqlite'
import { z } from '@hono/zod-openapi'
import type { Bus } from '../../bus/bus.ts'
import { Errors, invalidFrom } from '../../errors.ts'
import type { Logger } from '../../log.ts'
import { ruleBodySchema, ruleSchema } from '../../rules/schema.ts'
import { type RulesService, simulate } from '../../rules/service.ts'
import { ruleTestViewSchema, ruleViewSchema } from '../../rules/view-schema.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { jsonBody } from './api-shared.ts'
import { definitionReport, listReport } from './definition-routes.ts'
import { deleteRoute, found, getRoute, jsonRoute, pathParam, upsertRoute } from './route-builders.ts'

const params = { params: pathParam('id') }

/** What a rule is tested against: one trigger input, or readings it would have seen. */
const TestBody = z
  .object({
    payload: z
      .unknown()
      .optional()
      .openapi({ description: 'the data conditions read (a JSON payload, a body …)' }),
    topic: z.string().optional().openapi({ description: 'for MQTT rules: the topic the payload came on' }),
    device: z.string().optional(),
    metric: z.string().optional(),
    readings: z
      .array(z.object({ device: z.string(), metric: z.string(), value: z.number(), ts: z.number() }))
      .max(100_000)
      .optional()
      .openapi({ description: 'for telemetry rules: readings to replay in order' }),
  })
  .openapi('RuleTest')

const routes = {
  list: jsonRoute('get', 200, {
    op: ['listRules', 'List rules (config and API)'],
    answer: [z.object({ items: z.array(ruleViewSchema), ...definitionReport }), 'rules'],
  }),
  get: getRoute({
    path: '/{id}',
    op: ['getRule', 'Get a rule'],
    request: params,
    answer: [ruleViewSchema, 'the rule'],
  }),
  put: upsertRoute('put', {
    path: '/{id}',
    op: ['putRule', 'Create or replace a rule (config rules cannot be changed here)'],
    request: { ...params, body: jsonBody(z.record(z.string(), z.unknown()).openapi('RuleBody')) },
    item: ruleViewSchema,
    kept: 'replaced',
    created: 'created',
    // A missing rule is created, never a 404.
    errors: [400, 401, 403, 409],
  }),
  remove: deleteRoute({
    path: '/{id}',
    op: ['deleteRule', 'Delete a rule'],
    request: params,
    done: 'deleted',
    also: [409],
  }),
  test: jsonRoute('post', 200, {
    path: '/{id}/test',
    op: ['testRule', 'Report what a rule would do for a payload or for readings, without acting'],
    request: { ...params, body: jsonBody(TestBody) },
    answer: [ruleTestViewSchema, 'what would have fired'],
  }),
}

/** `/rules`: list, create, replace, delete and dry-run rules. */
export function createRuleRoutes(deps: {
  db: Database
  bus: Bus
  log: Logger
  rules: RulesService
  requireAuth: RequireAuth
  now?: () => number
}) {
  const now = deps.now ?? Date.now
  const router = createRouter()
  const rule = (id: string) => found(deps.rules.get(id), 'rule')
  const view = (id: string) => {
    const r = rule(id)
    return {
      rule: r.definition as unknown as Record<string, unknown>,
      origin: r.origin,
      suspended: deps.rules.suspended(id),
    }
  }

  router.openapi({ ...routes.list, middleware: [deps.requireAuth('read')] }, (c) =>
    c.json({ items: deps.rules.list().map((r) => view(r.id)), ...listReport(deps.rules.report()) }, 200),
  )
  router.openapi({ ...routes.get, middleware: [deps.requireAuth('read')] }, (c) =>
    c.json(view(c.req.valid('param').id), 200),
  )

  router.openapi({ ...routes.put, middleware: [deps.requireAuth('write')] }, (c) => {
    const { id } = c.req.valid('param')
    if (!ruleSchema.shape.id.safeParse(id).success)
      throw Errors.invalid([{ path: 'id', message: 'letters, digits, _ . - (up to 64)' }])
    deps.rules.refuseConfigDefined(id)
    const parsed = ruleBodySchema.safeParse(c.req.valid('json'))
    if (!parsed.success) throw invalidFrom(parsed.error)
    const existed = deps.rules.save(id, c.req.valid('json'), now())
    return c.json(view(id), existed ? 200 : 201)
  })

  router.openapi({ ...routes.remove, middleware: [deps.requireAuth('write')] }, (c) => {
    deps.rules.remove(c.req.valid('param').id)
    return c.body(null, 204)
  })

  router.openapi({ ...routes.test, middleware: [deps.requireAuth('read')] }, async (c) => {
    const loaded = rule(c.req.valid('param').id)
    const body = c.req.valid('json')
    const trigger = loaded.definition.trigger
    const inputs = body.readings?.map((r) => ({
      kind: 'telemetry',
      subject: `${r.device}/${r.metric}`,
      ts: r.ts,
      data: r,
      meta: { device: r.device, metric: r.metric },
    })) ?? [
      {
        kind: trigger.type,
        subject: body.topic ?? body.device,
        data: body.payload,
        meta: {
          topic: body.topic ?? (trigger.type === 'mqtt' ? trigger.filter : undefined),
          device: body.device ?? ('device' in trigger ? trigger.device : undefined),
          metric: body.metric ?? (trigger.type === 'telemetry' ? trigger.metric : undefined),
          hook: trigger.type === 'hook' ? trigger.name : undefined,
          schedule: trigger.type === 'schedule' ? trigger.schedule : undefined,
          event: trigger.type === 'device' ? trigger.event : undefined,
        },
      },
    ]
    // The live rule's cooldown and hysteresis state stay untouched: this runs in a private engine.
    const firings = await simulate(loaded.definition, inputs, deps.log)
    return c.json(
      {
        firings: firings.map((f) => ({
          subject: f.subject,
          reason: f.reason,
          input: f.input,
          actions: f.actions,
        })),
      },
      200,
    )
  })
  return router
}
