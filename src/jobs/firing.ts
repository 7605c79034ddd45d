import type { ActionResult } from '../actions/runner.ts'
import { Errors } from '../errors.ts'
import { planDue } from './missed.ts'
import type { TickReport } from './scheduler.ts'
import type { Entry, SchedulerCore } from './scheduler-core.ts'
import type { Schedule } from './schema.ts'
import {
  deleteSchedule,
  finishRun,
  insertRun,
  listRuns,
  pruneRuns,
  type RunRow,
  setRunState,
} from './store.ts'

/** The scheduler's firing: the timer, claiming due runs, running their actions, and runs outside the timing. */
export function createFiring(core: SchedulerCore) {
  const { deps, db, bus, clock, log, graceMs, historyLimit, entries, running, inflight, active } = core

  const arm = () => {
    core.cancelTimer?.()
    core.cancelTimer = undefined
    if (!core.started) return
    let earliest = Number.POSITIVE_INFINITY
    for (const { row } of entries.values()) {
      if (active(row) && row.nextRunAt !== null) earliest = Math.min(earliest, row.nextRunAt)
    }
    if (earliest === Number.POSITIVE_INFINITY) return
    core.cancelTimer = clock.setTimer(onTimer, earliest - clock.now())
  }

  const onTimer = () => {
    core.cancelTimer = undefined
    try {
      tick()
    } catch (err) {
      // The database is gone or broken: let the supervisor restart the service.
      core.ctx?.fail(err)
      return
    }
    arm()
  }

  const skip = (
    entry: Entry,
    at: number,
    reason: 'overlap' | 'missed',
    count: number,
    report: TickReport,
  ) => {
    const id = entry.row.id
    const why =
      reason === 'overlap'
        ? 'the previous run was still going'
        : `missed ${count} run${count === 1 ? '' : 's'} while the hub was down (policy ${entry.row.definition.missed.policy})`
    const now = clock.now()
    insertRun(db, {
      scheduleId: id,
      scheduledAt: at,
      startedAt: now,
      finishedAt: now,
      status: 'skipped',
      late: true,
      reason: why,
    })
    report.skipped.push({ id, at, reason, count })
    log.info('schedule run skipped', { id, reason, count })
    bus.emit('schedule.skipped', { id, scheduledAt: at, reason, count }, { subject: id })
  }

  const tick = (): TickReport => {
    const report: TickReport = { fired: [], skipped: [] }
    if (!core.started) return report
    const now = clock.now()
    for (const entry of [...entries.values()]) {
      const { row } = entry
      if (!active(row) || row.nextRunAt === null || row.nextRunAt > now) continue
      const plan = planDue(entry.timing, row.nextRunAt - 1, now, row.definition.missed, graceMs)
      const once = row.definition.kind === 'once'
      const nextRunAt = once ? null : entry.timing.next(now)
      if (!plan.run.length && !plan.skipped) {
        // A stored next run the timing no longer produces (say, a zone's rules changed): move on.
        setRunState(db, row.id, { lastRunAt: row.lastRunAt, nextRunAt, doneAt: row.doneAt })
        entry.row = { ...row, nextRunAt }
        continue
      }
      const due = [...plan.run.map((r) => r.at), ...(plan.skipped ? [plan.skipped.latest] : [])]
      const lastDue = Math.max(...due)

      if (running.has(row.id)) {
        // No overlap: a run still going makes this one skip, with an event (docs/schedules.md).
        db.transaction(() => {
          skip(entry, lastDue, 'overlap', plan.run.length + (plan.skipped?.count ?? 0), report)
          setRunState(db, row.id, { lastRunAt: lastDue, nextRunAt, doneAt: row.doneAt })
        })()
        entry.row = { ...row, lastRunAt: lastDue, nextRunAt }
        continue
      }

      const first = plan.run[0]
      let definition: Schedule | undefined
      if (
        first &&
        once &&
        row.definition.kind === 'once' &&
        row.definition.afterRun === 'disable' &&
        row.origin === 'api'
      ) {
        definition = { ...row.definition, enabled: false }
      }
      const doneAt = first && once ? now : row.doneAt
      let firstRunId = 0
      // One transaction: the run's start and the schedule's new state (done, for a one-shot) together.
      db.transaction(() => {
        if (plan.skipped) skip(entry, plan.skipped.latest, 'missed', plan.skipped.count, report)
        if (first) {
          firstRunId = insertRun(db, {
            scheduleId: row.id,
            scheduledAt: first.at,
            startedAt: now,
            status: 'running',
            late: first.late,
          })
        }
        setRunState(db, row.id, {
          lastRunAt: lastDue,
          nextRunAt,
          doneAt,
          ...(definition ? { definition, updatedAt: now } : {}),
        })
      })()
      entry.row = {
        ...row,
        lastRunAt: lastDue,
        nextRunAt,
        doneAt,
        ...(definition ? { definition, updatedAt: now } : {}),
      }
      if (!first) continue
      for (const r of plan.run) report.fired.push({ id: row.id, at: r.at, late: r.late })
      startChain(entry, plan.run, firstRunId)
    }
    return report
  }

  // Starts a chain of runs of one schedule and keeps it where stop() and overlaps can see it.
  const startChain = (entry: Entry, runs: Array<{ at: number; late: boolean }>, firstRunId: number) => {
    const id = entry.row.id
    const chain = runChain(entry, runs, firstRunId).finally(() => {
      inflight.delete(chain)
      if (running.get(id) === chain) running.delete(id)
      afterChain(id)
    })
    running.set(id, chain)
    inflight.add(chain)
  }

  // A run outside the schedule's timing: "Run now", and `runAtStart`.
  const runNow = (id: string, reason: string): RunRow => {
    if (!core.started) throw Errors.unavailable('the scheduler is not running')
    const entry = entries.get(id)
    if (!entry) throw Errors.notFound('schedule')
    if (running.has(id)) throw Errors.conflict(`schedule ${id} is running; try again when it is done`)
    const now = clock.now()
    const { row } = entry
    let runId = 0
    db.transaction(() => {
      runId = insertRun(db, {
        scheduleId: id,
        scheduledAt: now,
        startedAt: now,
        status: 'running',
        late: false,
        reason,
      })
      setRunState(db, id, { lastRunAt: now, nextRunAt: row.nextRunAt, doneAt: row.doneAt })
    })()
    entry.row = { ...row, lastRunAt: now }
    log.info('schedule run outside its timing', { id, reason })
    startChain(entry, [{ at: now, late: false }], runId)
    return listRuns(db, id, 1)[0]!
  }

  // Interval schedules with `runAtStart` run once now, unless their timing just fired them.
  const runAtStart = (fired: TickReport['fired']) => {
    for (const { row } of entries.values()) {
      if (row.definition.kind !== 'interval' || !row.definition.runAtStart || !active(row)) continue
      if (running.has(row.id) || fired.some((f) => f.id === row.id)) continue
      runNow(row.id, 'run at start')
    }
  }

  // Runs a catch-up chain in order; the first run was claimed by tick, the others claim themselves.
  const runChain = async (entry: Entry, runs: Array<{ at: number; late: boolean }>, firstRunId: number) => {
    for (const [i, r] of runs.entries()) {
      if (core.abort.signal.aborted) return
      try {
        const runId =
          i === 0
            ? firstRunId
            : insertRun(db, {
                scheduleId: entry.row.id,
                scheduledAt: r.at,
                startedAt: clock.now(),
                status: 'running',
                late: r.late,
              })
        await runOnce(entry, runId, r.at, r.late)
      } catch (err) {
        // Only the store can throw here (the runner never does): log it, the next tick retries nothing.
        log.error('recording a schedule run failed', { id: entry.row.id, err })
      }
    }
  }

  const runOnce = async (entry: Entry, runId: number, at: number, late: boolean) => {
    const { row } = entry
    const startedAt = clock.now()
    const context = {
      source: `schedule:${row.id}`,
      data: {
        schedule: { id: row.id, name: row.definition.name ?? row.id, kind: row.definition.kind },
        scheduledAt: at,
        firedAt: startedAt,
        late,
      },
      signal: core.abort.signal,
    }
    const results: ActionResult[] = []
    for (const action of row.definition.actions) results.push(await deps.actions.run(action, context))
    const status = results.every((r) => r.ok) ? 'ok' : 'failed'
    const finishedAt = clock.now()
    finishRun(db, runId, status, finishedAt, results)
    pruneRuns(db, row.id, historyLimit)
    bus.emit(
      'schedule.run',
      {
        id: row.id,
        runId,
        scheduledAt: at,
        late,
        status,
        ms: finishedAt - startedAt,
        actions: results.map((r) =>
          r.ok ? { type: r.type, ok: true } : { type: r.type, ok: false, error: r.error },
        ),
      },
      { subject: row.id },
    )
  }

  // A one-shot set to delete itself goes once its run is recorded (history goes with it; the event
  // stays). The current row decides: an update during the run made it a new one-shot.
  const afterChain = (id: string) => {
    const row = entries.get(id)?.row
    if (!core.started || !row || row.definition.kind !== 'once' || row.doneAt === null) return
    if (row.definition.afterRun !== 'delete' || row.origin !== 'api') return
    try {
      if (deleteSchedule(db, id))
        bus.emit('schedule.removed', { id, reason: 'one-shot done' }, { subject: id })
      entries.delete(id)
    } catch (err) {
      log.error('deleting a finished one-shot failed', { id, err })
    }
  }

  return { arm, tick, runNow, runAtStart }
}
