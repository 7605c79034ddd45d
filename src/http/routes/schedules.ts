import { createRoute, z } from '@hono/zod-openapi'
import { Errors } from '../../errors.ts'
import type { Scheduler, ScheduleView } from '../../jobs/scheduler.ts'
import { scheduleSchema } from '../../jobs/schema.ts'
import type { RunRow } from '../../jobs/store.ts'
import { localIso } from '../../jobs/timing.ts'
import { scheduleNextViewSchema, scheduleRunViewSchema, scheduleViewSchema } from '../../jobs/view-schema.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { errorResponses, jsonBody, jsonResponse } from './api-shared.ts'
import { definitionReport, listReport } from './definition-routes.ts'

const IdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) })

const NextQuery = z.object({
  count: z.coerce.number().int().min(1).max(100).default(10),
  from: z
    .string()
    .optional()
    .openapi({ description: 'start after this time (ms since the epoch or ISO 8601); default now' }),
})

const RunsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().regex(/^\d+$/).optional().openapi({ description: 'nextCursor of the previous page' }),
})

const list = createRoute({
  method: 'get',
  path: '/',
  operationId: 'listSchedules',
  summary: 'List schedules (from the API and the config file)',
  responses: {
    200: jsonResponse(z.object({ items: z.array(scheduleViewSchema), ...definitionReport }), 'schedules'),
    ...errorResponses(401, 403),
  },
})
const get = createRoute({
  method: 'get',
  path: '/{id}',
  operationId: 'getSchedule',
  summary: 'Get a schedule with its state',
  request: { params: IdParam },
  responses: { 200: jsonResponse(scheduleViewSchema, 'the schedule'), ...errorResponses(401, 403, 404) },
})
const create = createRoute({
  method: 'post',
  path: '/',
  operationId: 'createSchedule',
  summary: 'Create a schedule (the same schema as a [[schedules]] table of the config file)',
  request: { body: jsonBody(scheduleSchema) },
  responses: { 201: jsonResponse(scheduleViewSchema, 'created'), ...errorResponses(400, 401, 403, 409) },
})
const update = createRoute({
  method: 'put',
  path: '/{id}',
  operationId: 'replaceSchedule',
  summary: 'Replace a schedule; its next run is computed afresh from now',
  request: { params: IdParam, body: jsonBody(scheduleSchema) },
  responses: {
    200: jsonResponse(scheduleViewSchema, 'replaced'),
    ...errorResponses(400, 401, 403, 404, 409),
  },
})
const remove = createRoute({
  method: 'delete',
  path: '/{id}',
  operationId: 'deleteSchedule',
  summary: 'Delete a schedule and its run history',
  request: { params: IdParam },
  responses: { 204: { description: 'deleted' }, ...errorResponses(401, 403, 404, 409) },
})
const next = createRoute({
  method: 'get',
  path: '/{id}/next',
  operationId: 'previewScheduleRuns',
  summary: 'Preview the next run times',
  request: { params: IdParam, query: NextQuery },
  responses: {
    200: jsonResponse(scheduleNextViewSchema, 'the next runs, soonest first; empty when disabled or done'),
    ...errorResponses(400, 401, 403, 404),
  },
})
const runNow = createRoute({
  method: 'post',
  path: '/{id}/run',
  operationId: 'runSchedule',
  summary: 'Run a schedule’s actions now; its timing and next run stay as they are',
  description:
    'Starts a run at once, also of a disabled or finished schedule, and answers when it has started; ' +
    'the result follows as a `schedule.run` event and in the run history. 409 while a run of it is going on.',
  request: { params: IdParam },
  responses: {
    202: jsonResponse(scheduleRunViewSchema, 'the run, started'),
    ...errorResponses(401, 403, 404, 409, 503),
  },
})
const runs = createRoute({
  method: 'get',
  path: '/{id}/runs',
  operationId: 'listScheduleRuns',
  summary: 'List the run history of a schedule, newest first',
  request: { params: IdParam, query: RunsQuery },
  responses: {
    200: jsonResponse(
      z.object({ items: z.array(scheduleRunViewSchema), nextCursor: z.string().optional() }),
      'one page',
    ),
    ...errorResponses(400, 401, 403, 404),
  },
})

/** `/schedules`: CRUD, next-run preview and run history (issue 5 point 3); changes need write scope. */
export function createScheduleRoutes(deps: { scheduler: Scheduler; requireAuth: RequireAuth }) {
  const { scheduler } = deps
  const router = createRouter()
  router.use('*', deps.requireAuth('read'))
  const write = deps.requireAuth('write')

  router.openapi(list, (c) =>
    c.json({ items: scheduler.list().map(present), ...listReport(scheduler.report()) }, 200),
  )

  router.openapi(get, (c) => {
    const s = scheduler.get(c.req.valid('param').id)
    if (!s) throw notFound()
    return c.json(present(s), 200)
  })

  router.openapi({ ...create, middleware: [write] as const }, (c) =>
    c.json(present(scheduler.create(c.req.valid('json'))), 201),
  )

  router.openapi({ ...update, middleware: [write] as const }, (c) =>
    c.json(present(scheduler.update(c.req.valid('param').id, c.req.valid('json'))), 200),
  )

  router.openapi({ ...remove, middleware: [write] as const }, (c) => {
    scheduler.remove(c.req.valid('param').id)
    return c.body(null, 204)
  })

  router.openapi({ ...runNow, middleware: [write] as const }, (c) => {
    const { id } = c.req.valid('param')
    const run = scheduler.runNow(id)
    return c.json(presentRun(run, scheduler.get(id)?.timezone ?? 'UTC'), 202)
  })

  router.openapi(next, (c) => {
    const { id } = c.req.valid('param')
    const q = c.req.valid('query')
    const from = q.from === undefined ? undefined : /^\d+$/.test(q.from) ? Number(q.from) : Date.parse(q.from)
    if (from !== undefined && !Number.isFinite(from)) {
      throw Errors.badQuery([{ path: 'from', message: 'not a time (ms since the epoch or ISO 8601)' }])
    }
    const s = scheduler.get(id)
    if (!s) throw notFound()
    const times = scheduler.preview(id, q.count, from)
    return c.json(
      { id, timezone: s.timezone, runs: times.map((at) => ({ at, local: localIso(at, s.timezone) })) },
      200,
    )
  })

  router.openapi(runs, (c) => {
    const { id } = c.req.valid('param')
    const q = c.req.valid('query')
    const s = scheduler.get(id)
    if (!s) throw notFound()
    const items = scheduler.runs(id, q.limit + 1, q.cursor === undefined ? undefined : Number(q.cursor))
    const page = items.slice(0, q.limit)
    const more = items.length > q.limit
    return c.json(
      {
        items: page.map((r) => presentRun(r, s.timezone)),
        ...(more ? { nextCursor: String(page.at(-1)!.id) } : {}),
      },
      200,
    )
  })
  return router
}

const notFound = () => Errors.notFound('schedule')

function present(s: ScheduleView) {
  return {
    id: s.id,
    origin: s.origin,
    schedule: s.definition as Record<string, unknown>,
    state: {
      timezone: s.timezone,
      nextRunAt: s.nextRunAt,
      nextRun: s.nextRunAt === null ? null : localIso(s.nextRunAt, s.timezone),
      lastRunAt: s.lastRunAt,
      doneAt: s.doneAt,
      running: s.running,
    },
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  }
}

function presentRun(r: RunRow, timezone: string) {
  return {
    id: r.id,
    scheduledAt: r.scheduledAt,
    scheduled: localIso(r.scheduledAt, timezone),
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    status: r.status,
    late: r.late,
    reason: r.reason,
    results: r.results as Array<Record<string, unknown>> | null,
  }
}
