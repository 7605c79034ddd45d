import type { MissedPolicy } from '../util/calendar.ts'
import type { Timing } from './timing.ts'

/** Missed runs are counted up to this many (a seconds cron down for a week is "at least 1000"). */
const MISSED_COUNT_CAP = 1000

/** What to do with the runs that are due. */
interface DuePlan {
  /** Runs to make now, oldest first; `late` when caught up after downtime rather than on time. */
  run: Array<{ at: number; late: boolean }>
  /** Missed runs the policy left out: how many (capped) and the latest of them. */
  skipped?: { count: number; latest: number }
}

/**
 * Sorts the runs due in `(after, now]` into runs and skips. The latest due run is on time when it
 * is at most `graceMs` old; every older one was missed (the hub was down or busy) and follows the
 * schedule's policy.
 */
export function planDue(
  timing: Timing,
  after: number,
  now: number,
  policy: MissedPolicy,
  graceMs: number,
): DuePlan {
  const total = timing.count(after, now, MISSED_COUNT_CAP)
  if (total === 0) return { run: [] }
  const [latest] = timing.latest(after, now, 1)
  const onTime = latest !== undefined && now - latest <= graceMs ? latest : undefined
  const missedCount = total - (onTime === undefined ? 0 : 1)
  const run: DuePlan['run'] = []
  // The latest `n` missed runs: everything due before the one on time.
  const missedLatest = (n: number) => timing.latest(after, onTime === undefined ? now : onTime - 1, n)

  let caughtUp = 0
  if (missedCount > 0) {
    if (policy.policy === 'runAll') {
      for (const at of missedLatest(Math.min(policy.max, missedCount))) run.push({ at, late: true })
      caughtUp = run.length
    } else if (policy.policy === 'runIfLateWithin' && onTime === undefined) {
      // Coalesced, like APScheduler's misfire_grace_time with coalesce: one catch-up run at most.
      const [last] = missedLatest(1)
      if (last !== undefined && now - last <= policy.within) {
        run.push({ at: last, late: true })
        caughtUp = 1
      }
    }
  }
  if (onTime !== undefined) run.push({ at: onTime, late: false })

  const skippedCount = missedCount - caughtUp
  if (skippedCount <= 0) return { run }
  // The latest skipped run is the one just before the earliest caught-up run (or the latest missed).
  const bound = caughtUp > 0 ? run[0]!.at - 1 : onTime === undefined ? now : onTime - 1
  const [skippedLatest] = timing.latest(after, bound, 1)
  return { run, skipped: { count: skippedCount, latest: skippedLatest ?? after + 1 } }
}
