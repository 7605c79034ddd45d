import { createEventExecutor } from '../actions/event.ts'
import { createPublishExecutor } from '../actions/publish.ts'
import type { ActionRunner } from '../actions/runner.ts'
import { createPollExecutor, type PollDeps } from '../bridges/poll/poller.ts'

/**
 * The kinds the hub carries out itself: `publish` and `event`, and `poll`, whose readings go
 * through `record` (the telemetry writer in the hub) like ingest and MQTT readings.
 */
export function coreExecutors(deps: PollDeps) {
  return {
    publish: createPublishExecutor(deps.publish),
    event: createEventExecutor(deps.bus),
    poll: createPollExecutor(deps),
  }
}

/** Registers the core kinds on a runner of its own, as the hub's `actions` module does; returns an unregister. */
export function registerCoreActions(runner: ActionRunner, deps: PollDeps): () => void {
  const { publish, event, poll } = coreExecutors(deps)
  const off = [
    runner.register('publish', publish),
    runner.register('event', event),
    runner.register('poll', poll),
  ]
  return () => {
    for (const f of off) f()
  }
}
