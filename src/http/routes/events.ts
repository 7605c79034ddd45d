import type { Database } from 'bun:sqlite'
import { z } from '@hono/zod-openapi'
import { queryEvents } from '../../store/events.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { getRoute, pageOf, pagingQuery } from './route-builders.ts'

/** A time in a query: milliseconds since the epoch, or an ISO 8601 date. */
const instant = (what: string) =>
  z
    .string()
    .transform((s, ctx) => {
      const t = /^\d+$/.test(s) ? Number(s) : Date.parse(s)
      if (Number.isFinite(t)) return t
      ctx.addIssue({ code: 'custom', message: 'not a time (ms since the epoch or ISO 8601)' })
      return z.NEVER
    })
    .optional()
    .openapi({ type: 'string', description: what, example: '2025-01-31T00:00:00Z' })

const EventQuerySchema = z.object({
  type: z.string().optional().openapi({
    description:
      'comma-separated event types, e.g. device.online,device.offline; one ending in * is a prefix (device.*)',
  }),
  subject: z.string().optional().openapi({ description: 'what the event is about (device id, hook name …)' }),
  from: instant('inclusive lower bound'),
  to: instant('exclusive upper bound'),
  ...pagingQuery(1000, 100),
})

const EventSchema = z
  .object({
    id: z.number().int().optional(),
    type: z.string(),
    subject: z.string().optional(),
    ts: z.number().int(),
    detail: z.unknown(),
  })
  .openapi('Event')

const EventPageSchema = pageOf(EventSchema).openapi('EventPage')

const list = getRoute({
  op: ['queryEvents', 'Query the event log, newest first, one page at a time'],
  request: { query: EventQuerySchema },
  answer: [EventPageSchema, 'one page'],
})

/** `/events`: the event log by type, subject and time with cursor pagination (read scope). */
export function createEventRoutes(deps: { db: Database; requireAuth: RequireAuth }) {
  const router = createRouter()
  router.use('*', deps.requireAuth('read'))
  router.openapi(list, (c) => {
    const q = c.req.valid('query')
    const types = q.type
      ?.split(',')
      .map((t) => t.trim())
      .filter(Boolean)
    const page = queryEvents(deps.db, {
      limit: q.limit,
      ...(types?.length ? { types } : {}),
      ...(q.subject !== undefined ? { subject: q.subject } : {}),
      ...(q.from !== undefined ? { from: q.from } : {}),
      ...(q.to !== undefined ? { to: q.to } : {}),
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
    })
    return c.json(page, 200)
  })
  return router
}
