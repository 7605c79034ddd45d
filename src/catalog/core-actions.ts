import { createEventExecutor } from '../actions/event.ts'
import { createPublishExecutor, type PublishFn } from '../actions/publish.ts'
import type { ActionRunner } from '../actions/runner.ts'
import { createPollExecutor, type PollDeps } from '../bridges/poll/poller.ts'
import type { Bus } from '../bus/bus.ts'

interface CoreActionDeps {
  bus: Bus
  publish: PublishFn
  record?: PollDeps['record']
  fetch?: PollDeps['fetch']
  now?: () => number
}

/**
 * Registers the kinds the hub carries out itself: publish, event and poll. `webhook` waits for the
 * outbox; push, slack and setDesired are registered by their bridges (later issues).
 */
export function registerCoreActions(runner: ActionRunner, deps: CoreActionDeps): () => void {
  const off = [
    runner.register('publish', createPublishExecutor(deps.publish)),
    runner.register('event', createEventExecutor(deps.bus)),
    runner.register(
      'poll',
      createPollExecutor({
        bus: deps.bus,
        publish: deps.publish,
        ...(deps.record ? { record: deps.record } : {}),
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
        ...(deps.now ? { now: deps.now } : {}),
      }),
    ),
  ]
  return () => {
    for (const f of off) f()
  }
}
