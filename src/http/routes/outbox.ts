import { z } from '@hono/zod-openapi'
import { Errors } from '../../errors.ts'
import type { Outbox } from '../../outbox/outbox.ts'
import { OUTBOX_STATES, outboxEntryViewSchema } from '../../outbox/schema.ts'
import type { OutboxEntry } from '../../outbox/types.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { jsonBody } from './api-shared.ts'
import { deleteRoute, found, getRoute, jsonRoute, limitQuery, pageOf, serialParam } from './route-builders.ts'

const PageSchema = pageOf(outboxEntryViewSchema).openapi('OutboxPage')

const ListQuery = z.object({
  state: z
    .enum(OUTBOX_STATES)
    .optional()
    .openapi({ description: 'dead for the dead letters; without it, what is still to be delivered' }),
  kind: z.string().optional(),
  target: z.string().optional(),
  limit: limitQuery(1000, 100),
  cursor: z.coerce
    .number()
    .int()
    .nonnegative()
    .optional()
    .openapi({ type: 'integer', description: '`nextCursor` of the previous page' }),
})

const IdParam = serialParam('id')

const ReplayAllSchema = z.strictObject({ kind: z.string().optional(), target: z.string().optional() })

const params = { params: IdParam }

const routes = {
  list: getRoute({
    op: [
      'listOutbox',
      'List deliveries still to be made (or, with state=dead, the dead letters), oldest first',
    ],
    request: { query: ListQuery },
    answer: [PageSchema, 'one page'],
  }),
  get: getRoute({
    path: '/{id}',
    op: ['getOutboxDelivery', 'Get one delivery'],
    request: params,
    answer: [outboxEntryViewSchema, 'the delivery'],
  }),
  replay: jsonRoute('post', 200, {
    path: '/{id}/replay',
    op: ['replayOutboxDelivery', 'Queue a dead letter again with a fresh budget of attempts (write)'],
    request: params,
    answer: [outboxEntryViewSchema, 'queued again'],
    also: [409],
  }),
  replayAll: jsonRoute('post', 200, {
    path: '/replay',
    op: ['replayDeadLetters', 'Queue every dead letter (of a kind or target) again (write)'],
    request: { body: jsonBody(ReplayAllSchema) },
    answer: [z.object({ replayed: z.number().int() }), 'how many'],
  }),
  discard: deleteRoute({
    path: '/{id}',
    op: ['deleteOutboxDelivery', 'Discard a pending delivery or a dead letter (write)'],
    request: params,
    done: 'discarded',
    also: [409],
  }),
}

/** `/api/v1/outbox`: pending deliveries, dead letters, replay and discard. */
export function createOutboxApi(deps: { outbox: Outbox; requireAuth: RequireAuth }) {
  const { outbox } = deps
  const router = createRouter()
  router.use('*', deps.requireAuth('read'))
  const write = deps.requireAuth('write')
  const entryOr404 = (id: number): OutboxEntry => found(outbox.get(id), 'delivery')

  router.openapi(routes.list, (c) => {
    const q = c.req.valid('query')
    const page = outbox.list({
      states: q.state ? [q.state] : ['pending', 'sending'],
      limit: q.limit,
      ...(q.kind ? { kind: q.kind } : {}),
      ...(q.target ? { target: q.target } : {}),
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
    })
    return c.json(page, 200)
  })
  router.openapi(routes.get, (c) => c.json(entryOr404(c.req.valid('param').id), 200))
  router.openapi({ ...routes.replayAll, middleware: [write] as const }, (c) => {
    const body = c.req.valid('json')
    return c.json({ replayed: outbox.replayAll(body) }, 200)
  })
  router.openapi({ ...routes.replay, middleware: [write] as const }, (c) => {
    const { id } = c.req.valid('param')
    const entry = entryOr404(id)
    if (!outbox.replay(id)) throw Errors.conflict(`delivery ${id} is ${entry.state}, not a dead letter`)
    return c.json(entryOr404(id), 200)
  })
  router.openapi({ ...routes.discard, middleware: [write] as const }, (c) => {
    const { id } = c.req.valid('param')
    entryOr404(id)
    if (!outbox.discard(id)) throw Errors.conflict(`delivery ${id} is being sent; try again`)
    return c.body(null, 204)
  })
  return router
}
