import { z } from '@hono/zod-openapi'
import type { Broker } from '../../broker/broker.ts'
import { Errors } from '../../errors.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { describePayload, isTopicFilter, isTopicName } from './mqtt-payload.ts'
import { deleteRoute, getRoute, limitQuery } from './route-builders.ts'

/** A retained message as `GET /api/v1/retained` answers it (an HTTP shape only). */
const RetainedSchema = z
  .object({
    topic: z.string(),
    payload: z.string(),
    encoding: z.enum(['utf8', 'base64']),
    qos: z.number().int(),
  })
  .openapi('RetainedMessage')
export type RetainedView = z.infer<typeof RetainedSchema>

const ListQuery = z.object({
  filter: z
    .string()
    .default('#')
    .refine(isTopicFilter, 'not a valid MQTT topic filter')
    .openapi({ description: 'MQTT topic filter, + and # allowed', example: 'devices/+/status' }),
  limit: limitQuery(10_000, 1000),
})
const TopicQuery = z.object({
  topic: z.string().refine(isTopicName, 'not a topic name (no wildcards)').openapi({ example: 'pi/1' }),
})

const list = getRoute({
  op: ['listRetained', 'List retained messages matching a topic filter, by topic'],
  request: { query: ListQuery },
  answer: [
    z.object({ items: z.array(RetainedSchema), truncated: z.boolean() }),
    'retained messages; `truncated` when more than `limit` matched',
  ],
})
const remove = deleteRoute({
  op: ['clearRetained', 'Clear the retained message of a topic (publishes an empty retained message)'],
  request: { query: TopicQuery },
  done: 'cleared',
  also: [404],
})

/** `/retained`: the broker's retained messages. */
export function createRetainedRoutes(deps: { broker: Broker; requireAuth: RequireAuth }) {
  const router = createRouter()

  const collect = (filter: string, limit: number) => {
    const items: z.infer<typeof RetainedSchema>[] = []
    // [MQTT-4.7.2-1] the engine does not match $-topics with a leading wildcard.
    for (const m of deps.broker.retained(filter)) {
      items.push({ topic: m.topic, qos: m.qos, ...describePayload(m.payload) })
      if (items.length > limit) break
    }
    return items
  }

  router.openapi({ ...list, middleware: [deps.requireAuth('read')] as const }, async (c) => {
    const { filter, limit } = c.req.valid('query')
    const items = collect(filter, limit)
    const truncated = items.length > limit
    items.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0))
    return c.json({ items: items.slice(0, limit), truncated }, 200)
  })

  router.openapi({ ...remove, middleware: [deps.requireAuth('write')] as const }, async (c) => {
    const { topic } = c.req.valid('query')
    if (!collect(topic, 1).length) throw Errors.notFound('retained message')
    // [MQTT-3.3.1-10] an empty retained PUBLISH removes the retained message of its topic.
    await deps.broker.publish({ topic, payload: Buffer.alloc(0), qos: 0, retain: true })
    return c.body(null, 204)
  })
  return router
}
