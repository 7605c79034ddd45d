import { z } from 'zod'

/** How a schedule's run went: `running` until it finishes, `interrupted` when a stop cut it short. */
export const RUN_STATUSES = ['running', 'ok', 'failed', 'skipped', 'interrupted'] as const

// What `GET /api/v1/schedules/…` answers and the console shows.
const scheduleStateSchema = z.object({
  timezone: z.string().describe('the zone its times are read in (its own or the config default)'),
  nextRunAt: z.number().int().nullable().describe('ms since the epoch; null: none'),
  nextRun: z.string().nullable().describe('the same, as local ISO 8601 with offset'),
  lastRunAt: z.number().int().nullable().describe('scheduled time of the last run (or skip)'),
  doneAt: z.number().int().nullable().describe('when a one-shot fired'),
  running: z.boolean(),
})

export const scheduleViewSchema = z
  .object({
    id: z.string(),
    origin: z.enum(['api', 'config']),
    schedule: z.record(z.string(), z.unknown()).describe('the definition, defaults filled in'),
    state: scheduleStateSchema,
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .meta({ id: 'ScheduleView' })

export const scheduleRunViewSchema = z
  .object({
    id: z.number().int(),
    scheduledAt: z.number().int(),
    scheduled: z.string().describe('scheduledAt as local ISO 8601'),
    startedAt: z.number().int(),
    finishedAt: z.number().int().nullable(),
    status: z.enum(RUN_STATUSES),
    late: z.boolean().describe('caught up after downtime'),
    reason: z.string().nullable().describe('why it was skipped or interrupted'),
    results: z.array(z.record(z.string(), z.unknown())).nullable().describe('one per action'),
  })
  .meta({ id: 'ScheduleRun' })

/** `GET /api/v1/schedules/:id/next`. */
export const scheduleNextViewSchema = z.object({
  id: z.string(),
  timezone: z.string(),
  runs: z.array(z.object({ at: z.number().int(), local: z.string() })),
})

export type ScheduleStateView = z.infer<typeof scheduleStateSchema>
export type ScheduleView = z.infer<typeof scheduleViewSchema>
export type ScheduleRunView = z.infer<typeof scheduleRunViewSchema>
export type ScheduleNextView = z.infer<typeof scheduleNextViewSchema>
