import { z } from 'zod'
import { duration } from './duration.ts'

// The words schedules are written in, shared by the scheduler, the config file and the Firestore
// schedule documents.

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const

/** IANA zone names only: a fixed offset would silently ignore daylight saving time. */
export const timeZoneSchema = z.string().refine(isTimeZone, 'not an IANA time zone (e.g. Asia/Seoul)')

/**
 * What happens to runs that fell while the hub was down: `skip` them, run the latest one if it is
 * at most `within` late (`runIfLateWithin`), or run each of the last `max` (`runAll`, at most 100).
 */
export const missedSchema = z.discriminatedUnion('policy', [
  z.strictObject({ policy: z.literal('skip') }),
  z.strictObject({ policy: z.literal('runIfLateWithin'), within: duration() }),
  z.strictObject({ policy: z.literal('runAll'), max: z.number().int().min(1).max(100).default(100) }),
])

export type MissedPolicy = z.infer<typeof missedSchema>

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz })
    return true
  } catch {
    return false
  }
}
