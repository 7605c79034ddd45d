import { z } from '@hono/zod-openapi'
import type { Broker } from '../../broker/broker.ts'
import { Errors } from '../../errors.ts'
import { isServerTopic } from '../../util/topic.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { jsonBody } from './api-shared.ts'
import { EncodingSchema, isTopicName } from './mqtt-payload.ts'
import { jsonRoute } from './route-builders.ts'

const PublishSchema = z
  .object({
    topic: z
      .string()
      .refine(isTopicName, 'not a topic name (no wildcards)')
      .refine((t) => !isServerTopic(t), 'topics starting with $ belong to the broker')
      .openapi({ example: 'pi/1' }),
    payload: z.unknown().openapi({ description: 'text, base64, or any JSON value (see encoding)' }),
    encoding: EncodingSchema.default('utf8'),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(0),
    retain: z.boolean().default(false),
  })
  .openapi('Publish')

const PublishedSchema = z
  .object({ topic: z.string(), bytes: z.number().int(), qos: z.number().int(), retain: z.boolean() })
  .openapi('Published')

const publish = jsonRoute('post', 200, {
  op: ['publishMessage', 'Publish an MQTT message as the hub'],
  request: { body: jsonBody(PublishSchema) },
  answer: [PublishedSchema, 'routed by the broker'],
  also: [413],
})

/** `/publish`: an MQTT message from the API (write scope), routed like any other. */
export function createPublishRoutes(deps: { broker: Broker; requireAuth: RequireAuth }) {
  const router = createRouter()
  router.use('*', deps.requireAuth('write'))
  router.openapi(publish, async (c) => {
    const body = c.req.valid('json')
    const payload = encode(body.payload, body.encoding)
    await deps.broker.publish({ topic: body.topic, payload, qos: body.qos, retain: body.retain })
    return c.json({ topic: body.topic, bytes: payload.length, qos: body.qos, retain: body.retain }, 200)
  })
  return router
}

function encode(payload: unknown, encoding: z.infer<typeof EncodingSchema>): Buffer {
  if (encoding === 'json') return Buffer.from(JSON.stringify(payload ?? null))
  if (typeof payload !== 'string') {
    throw Errors.invalid([{ path: 'payload', message: `must be a string when encoding is ${encoding}` }])
  }
  if (encoding === 'utf8') return Buffer.from(payload)
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(payload)) {
    throw Errors.invalid([{ path: 'payload', message: 'not base64' }])
  }
  return Buffer.from(payload, 'base64')
}
