import type { Database } from 'bun:sqlite'
import { createRoute, z } from '@hono/zod-openapi'
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
import { Errors } from '../../errors.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { errorResponses, jsonBody, jsonResponse } from './api-shared.ts'

export interface MessageRoutesDeps {
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
  createRoute({
    method: 'post',
    path,
    operationId,
    summary,
    request: { body: jsonBody(body) },
    responses: { 202: jsonResponse(SendResultSchema, 'accepted'), ...errorResponses(400, 401, 403, 404) },
  })

const routes = {
  list: createRoute({
    method: 'get',
    path: '/',
    operationId: 'listMessages',
    summary: 'List recent messages, newest first, with their counts',
    request: {
      query: z.object({
        limit: z.coerce.number().int().min(1).max(200).default(50),
        before: z.coerce.number().int().optional().openapi({ description: 'createdAt of the last one seen' }),
      }),
    },
    responses: {
      200: jsonResponse(z.object({ items: z.array(MessageSummarySchema) }), 'messages'),
      ...errorResponses(400, 401, 403),
    },
  }),
  get: createRoute({
    method: 'get',
    path: '/{id}',
    operationId: 'getMessage',
    summary: 'Get a message with the status of each recipient',
    request: {
      params: z.object({
        id: z
          .string()
          .min(1)
          .max(100)
          .openapi({ param: { name: 'id', in: 'path' } }),
      }),
      query: z.object({
        status: Status.optional(),
        limit: z.coerce.number().int().min(1).max(MAX_DEVICES_PER_CALL).default(500),
        cursor: z.string().optional().openapi({ description: 'nextCursor of the previous page' }),
      }),
    },
    responses: { 200: jsonResponse(MessageSchema, 'the message'), ...errorResponses(400, 401, 403, 404) },
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

/** `/messages`: unicast, multicast, broadcast and group messages and their delivery (issue 7 point 2). */
export function createMessageRoutes(deps: MessageRoutesDeps) {
  const { db, messaging } = deps
  const read = deps.requireAuth('read')
  const write = deps.requireAuth('write')
  const router = createRouter()
  router.use('*', (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? read : write)(c, next))

  const accept = async (target: SendTarget, body: z.infer<typeof BroadcastBody>, by: string) => {
    const result = await messaging.send(target, { message: body.message, push: body.push, ttl: body.ttl, by })
    if (!result) throw Errors.notFound('group')
    return result
  }

  router.openapi(routes.list, (c) => {
    const q = c.req.valid('query')
    return c.json({ items: listMessages(db, { before: q.before, limit: q.limit }) }, 200)
  })
  router.openapi(routes.get, (c) => {
    const { id } = c.req.valid('param')
    const q = c.req.valid('query')
    const view = viewMessage(db, id, { status: q.status, after: q.cursor, limit: q.limit })
    if (!view) throw Errors.notFound('message')
    return c.json(view, 200)
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
