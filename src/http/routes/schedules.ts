import { z } from '@hono/zod-openapi'
import { Errors } from '../../errors.ts'
import type { Scheduler, ScheduleView } from '../../jobs/scheduler.ts'
import { scheduleSchema } from '../../jobs/schema.ts'
import type { RunRow } from '../../jobs/store.ts'
import { localIso } from '../../jobs/timing.ts'
import { scheduleNextViewSchema, scheduleRunViewSchema, scheduleViewSchema } from '../../jobs/view-schema.ts'
import { pageOf as pageOfRows } from '../../util/sql.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { jsonBody } from './api-shared.ts'
import { definitionReport, listReport } from './definition-routes.ts'
import { deleteRoute, found, getRoute, jsonRoute, limitQuery, pageOf, pathParam } from './route-builders.ts'

const params = { params: pathParam('id') }

const NextQuery = z.object({
  count: limitQuery(100, 10),
  from: z
    .string()
    .optional()
    .openapi({ description: 'start after this time (ms since the epoch or ISO 8601); default now' }),
})

const RunsQuery = z.object({
  limit: limitQuery(200, 50),
  cursor: z.string().regex(/^\d+$/).optional().openapi({ description: 'nextCursor of the previous page' }),
})

const list = jsonRoute('get', 200, {
  op: ['listSchedules', 'List schedules (from the API and the config file)'],
  answer: [z.object({ items: z.array(scheduleViewSchema), ...definitionReport }), 'schedules'],
})
const get = getRoute({
  path: '/{id}',
  op: ['getSchedule', 'Get a schedule with its state'],
  request: params,
  answer: [scheduleViewSchema, 'the schedule'],
})
const create = jsonRoute('post', 201, {
  op: ['createSchedule', 'Create a schedule (the same schema as a [[schedules]] table of the config file)'],
  request: { body: jsonBody(scheduleSchema) },
  answer: [scheduleViewSchema, 'created'],
  also: [409],
})
const update = jsonRoute('put', 200, {
  path: '/{id}',
  op: ['replaceSchedule', 'Replace a schedule; its next run is computed afresh from now'],
  request: { ...params, body: jsonBody(scheduleSchema) },
  answer: [scheduleViewSchema, 'replaced'],
  also: [409],
})
const remove = deleteRoute({
  path: '/{id}',
  op: ['deleteSchedule', 'Delete a schedule and its run history'],
  request: params,
  done: 'deleted',
  also: [409],
})
const next = getRoute({
  path: '/{id}/next',
  op: ['previewScheduleRuns', 'Preview the next run times'],
  request: { ...params, query: NextQuery },
  answer: [scheduleNextViewSchema, 'the next runs, soonest first; empty when disabled or done'],
})
const runNow = jsonRoute('post', 202, {
  path: '/{id}/run',
  op: ['runSchedule', 'Run a schedule’s actions now; its timing and next run stay as they are'],
  description:
    'Starts a run at once, also of a disabled or finished schedule, and answers when it has started; ' +
    'the result follows as a `schedule.run` event and in the run history. 409 while a run of it is going on.',
  request: params,
  answer: [scheduleRunViewSchema, 'the run, started'],
  also: [409, 503],
})
const runs = getRoute({
  path: '/{id}/runs',
  op: ['listScheduleRuns', 'List the run history of a schedule, newest first'],
  request: { ...params, query: RunsQuery },
  answer: [pageOf(scheduleRunViewSchema), 'one page'],
})

/** `/schedules`: CRUD, next-run preview and run history; changes need write scope. */
export function createScheduleRoutes(deps: { scheduler: Scheduler; requireAuth: RequireAuth }) {
  const { scheduler } = deps
  const router = createRouter()
  router.use('*', deps.requireAuth('read'))
  const write = deps.requireAuth('write')
  const schedule = (id: string) => found(scheduler.get(id), 'schedule')

  router.openapi(list, (c) =>
    c.json({ items: scheduler.list().map(present), ...listReport(scheduler.report()) }, 200),
  )

  router.openapi(get, (c) => c.json(present(schedule(c.req.valid('param').id)), 200))

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
    const s = schedule(id)
    const times = scheduler.preview(id, q.count, from)
    return c.json(
      { id, timezone: s.timezone, runs: times.map((at) => ({ at, local: localIso(at, s.timezone) })) },
      200,
    )
  })

  router.openapi(runs, (c) => {
    const { id } = c.req.valid('param')
    const q = c.req.valid('query')
    const s = schedule(id)
    const rows = scheduler.runs(id, q.limit + 1, q.cursor === undefined ? undefined : Number(q.cursor))
    return c.json(
      pageOfRows(
        rows,
        q.limit,
        (r) => presentRun(r, s.timezone),
        (last) => String(last.id),
      ),
      200,
    )
  })
  return router
}

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
