import type { Database } from 'bun:sqlite'
import { z } from '@hono/zod-openapi'
import { sendResultSchema } from '../../bus/payloads.ts'
import { MAX_DEVICES_PER_CALL } from '../../devices/groups.ts'
import { listMessages, viewMessage } from '../../devices/message-store.ts'
import {
  MAX_MESSAGE_BYTES,
  type Messaging,
  messageValueSchema,
  pushOptionSchema,
  type SendTarget,
} from '../../devices/messaging.ts'
import { messageSummarySchema, messageViewSchema, recipientStatusSchema } from '../../devices/schema.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { jsonBody } from './api-shared.ts'
import {
  found,
  getRoute,
  jsonRoute,
  limitQuery,
  listRoute,
  pathParam,
  readOrWrite,
} from './route-builders.ts'

interface MessageRoutesDeps {
  db: Database
  messaging: Messaging
  requireAuth: RequireAuth
}

const Status = recipientStatusSchema

const sendFields = {
  message: messageValueSchema.openapi({
    description: `any JSON value (a string, as source (c) sent, or an object), at most ${MAX_MESSAGE_BYTES} bytes`,
    example: '{"text":"hello"}',
  }),
  push: pushOptionSchema.optional().openapi({
    description: 'also push this notification to the recipients’ phones (needs the push bridge)',
  }),
  ttl: z
    .number()
    .int()
    .min(1)
    .max(30 * 86_400_000)
    .optional()
    .openapi({ description: 'ms an absent device may still get it; default devices.messageTtl (3 days)' }),
}

const SendResultSchema = sendResultSchema
const MessageSummarySchema = messageSummarySchema
const MessageSchema = messageViewSchema

const DeviceIds = z.array(z.string().min(1).max(64)).min(1).max(MAX_DEVICES_PER_CALL)
const BroadcastBody = z.object(sendFields).openapi('BroadcastMessage')
const UnicastBody = BroadcastBody.extend({ deviceId: z.string().min(1).max(64) }).openapi('UnicastMessage')
const MulticastBody = BroadcastBody.extend({ devices: DeviceIds }).openapi('MulticastMessage')
const GroupBody = BroadcastBody.extend({ groupId: z.string().min(1).max(64) }).openapi('GroupMessage')

const send = <T extends z.ZodType>(path: string, operationId: string, summary: string, body: T) =>
  jsonRoute('post', 202, {
    path,
    op: [operationId, summary],
    request: { body: jsonBody(body) },
    answer: [SendResultSchema, 'accepted'],
    also: [404],
  })

const routes = {
  list: listRoute({
    op: ['listMessages', 'List recent messages, newest first, with their counts'],
    request: {
      query: z.object({
        limit: limitQuery(200, 50),
        before: z.coerce.number().int().optional().openapi({ description: 'createdAt of the last one seen' }),
      }),
    },
    item: MessageSummarySchema,
    items: 'messages',
  }),
  get: getRoute({
    path: '/{id}',
    op: ['getMessage', 'Get a message with the status of each recipient'],
    request: {
      params: pathParam('id', {}, z.string().min(1).max(100)),
      query: z.object({
        status: Status.optional(),
        limit: limitQuery(MAX_DEVICES_PER_CALL, 500),
        cursor: z.string().optional().openapi({ description: 'nextCursor of the previous page' }),
      }),
    },
    answer: [MessageSchema, 'the message'],
  }),
  unicast: send('/unicast', 'sendUnicastMsg', 'Send to one device', UnicastBody),
  multicast: send(
    '/multicast',
    'sendMulticastMsg',
    `Send to a list of devices, at most ${MAX_DEVICES_PER_CALL}`,
    MulticastBody,
  ),
  broadcast: send('/broadcast', 'sendBroadcastMsg', 'Send to every enabled device', BroadcastBody),
  group: send('/group', 'sendGroupMsg', 'Send to the members of a group', GroupBody),
}

/** What a send takes from its body, over the API and the console alike. */
export type MessageFields = Pick<Parameters<Messaging['send']>[1], 'message' | 'push' | 'ttl'>

/** Sends a message as `by`; a 404 when its group does not exist. */
export async function acceptMessage(
  messaging: Messaging,
  target: SendTarget,
  body: MessageFields,
  by: string,
) {
  return found(
    await messaging.send(target, { message: body.message, push: body.push, ttl: body.ttl, by }),
    'group',
  )
}

/** `/messages`: unicast, multicast, broadcast and group messages and their delivery. */
export function createMessageRoutes(deps: MessageRoutesDeps) {
  const { db, messaging } = deps
  const router = createRouter()
  router.use('*', readOrWrite(deps.requireAuth))

  const accept = (target: SendTarget, body: MessageFields, by: string) =>
    acceptMessage(messaging, target, body, by)

  router.openapi(routes.list, (c) => {
    const q = c.req.valid('query')
    return c.json({ items: listMessages(db, { before: q.before, limit: q.limit }) }, 200)
  })
  router.openapi(routes.get, (c) => {
    const { id } = c.req.valid('param')
    const q = c.req.valid('query')
    return c.json(
      found(viewMessage(db, id, { status: q.status, after: q.cursor, limit: q.limit }), 'message'),
      200,
    )
  })
  router.openapi(routes.unicast, async (c) => {
    const b = c.req.valid('json')
    return c.json(await accept({ kind: 'unicast', deviceId: b.deviceId }, b, c.get('principal').id), 202)
  })
  router.openapi(routes.multicast, async (c) => {
    const b = c.req.valid('json')
    return c.json(await accept({ kind: 'multicast', devices: b.devices }, b, c.get('principal').id), 202)
  })
  router.openapi(routes.broadcast, async (c) => {
    const b = c.req.valid('json')
    return c.json(await accept({ kind: 'broadcast' }, b, c.get('principal').id), 202)
  })
  router.openapi(routes.group, async (c) => {
    const b = c.req.valid('json')
    return c.json(await accept({ kind: 'group', groupId: b.groupId }, b, c.get('principal').id), 202)
  })
  return router
}
