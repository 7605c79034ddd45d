import { z } from '@hono/zod-openapi'
import { Errors } from '../../errors.ts'
import { parseTimestamp } from '../../telemetry/reading.ts'
import { telemetryLatestViewSchema, telemetrySeriesViewSchema } from '../../telemetry/schema.ts'
import type { Telemetry } from '../../telemetry/telemetry.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { getRoute, limitQuery } from './route-builders.ts'

const DAY = 86_400_000
/** Enough for a day of one reading per second as raw values. */
const MAX_POINTS = 200_000

const instant = (what: string) =>
  z
    .string()
    .transform((s, ctx) => {
      const t = parseTimestamp(s)
      if (t !== undefined) return t
      ctx.addIssue({ code: 'custom', message: 'not a time (ISO 8601, or epoch seconds or milliseconds)' })
      return z.NEVER
    })
    .optional()
    .openapi({ type: 'string', description: what, example: '2025-01-31T00:00:00Z' })

const SeriesQuerySchema = z.object({
  device: z.string().min(1).openapi({ example: 'pi-1' }),
  metric: z.string().min(1).openapi({ example: 'no2' }),
  from: instant('inclusive start; default `to` minus 24 hours'),
  to: instant('inclusive end; default now'),
  points: limitQuery(MAX_POINTS, 1000).openapi({
    description: 'the most values to return; wider buckets are used to stay under it',
  }),
})

const series = getRoute({
  op: [
    'queryTelemetry',
    'Query one metric of one device over time, at most `points` values (raw or rolled up)',
  ],
  request: { query: SeriesQuerySchema },
  answer: [telemetrySeriesViewSchema, 'the series'],
})

const latest = getRoute({
  path: '/latest',
  op: ['latestTelemetry', 'Get the latest value of every metric of a device (or of every device)'],
  request: { query: z.object({ device: z.string().min(1).optional().openapi({ example: 'pi-1' }) }) },
  answer: [telemetryLatestViewSchema, 'latest values by device and metric'],
  errors: [401, 403],
})

/** `/telemetry`: stored readings for charts, read scope. */
export function createTelemetryRoutes(deps: {
  telemetry: Pick<Telemetry, 'query' | 'latest'>
  requireAuth: RequireAuth
  now?: () => number
}) {
  const now = deps.now ?? Date.now
  const router = createRouter()
  router.use('*', deps.requireAuth('read'))
  router.openapi(series, (c) => {
    const q = c.req.valid('query')
    const to = q.to ?? now()
    const from = q.from ?? to - DAY
    if (from > to) throw Errors.badQuery([{ path: 'from', message: 'must not be after to' }])
    return c.json(
      deps.telemetry.query({ device: q.device, metric: q.metric, from, to, points: q.points }),
      200,
    )
  })
  router.openapi(latest, (c) => c.json({ items: deps.telemetry.latest(c.req.valid('query').device) }, 200))
  return router
}
