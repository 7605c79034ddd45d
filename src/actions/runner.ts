import type { Bus } from '../bus/bus.ts'
import type { Logger } from '../log.ts'

/** What an action runs with: who asked, the data its templates read, and when to give up. */
export interface ActionContext {
  /** `schedule:<id>`, `rule:<id>`, …: recorded with every event the action causes. */
  source: string
  /** The object `{{path}}` placeholders are looked up in. */
  data?: Record<string, unknown>
  /** Aborted when the hub stops or the caller gives up. */
  signal?: AbortSignal
}

/**
 * What every action is: a kind and its fields. Each kind's schema lives with what carries it out
 * (a bridge, devices); the union of all of them is the catalog's (src/catalog), above the bridges.
 */
export interface ActionBase {
  type: string
}

/** The outcome of one action. `detail` is what the executor returned (or failed with). */
export type ActionResult =
  | { type: string; ok: true; ms: number; detail?: unknown }
  | { type: string; ok: false; ms: number; error: string; code: 'no-executor' | 'failed' }

/** Carries out one kind of action; a throw (or rejection) is the action failing. */
export type ActionExecutor<A extends ActionBase = ActionBase> = (action: A, ctx: ActionContext) => unknown

export interface ActionRunner<A extends ActionBase = ActionBase> {
  /** Plugs in the executor of a kind; returns an unregister. */
  register<T extends A['type']>(type: T, executor: ActionExecutor<Extract<A, { type: T }>>): () => void
  has(type: A['type']): boolean
  /** Runs one action. Never throws: a failure is a result with `ok: false` and an `action.failed` event. */
  run(action: A, ctx: ActionContext): Promise<ActionResult>
}

interface ActionRunnerDeps {
  log: Logger
  bus: Bus
  now?: () => number
}

export function createActionRunner<A extends ActionBase = ActionBase>(
  deps: ActionRunnerDeps,
): ActionRunner<A> {
  const log = deps.log.child('actions')
  const now = deps.now ?? Date.now
  const executors = new Map<string, ActionExecutor>()

  const fail = (
    action: A,
    ctx: ActionContext,
    started: number,
    code: 'no-executor' | 'failed',
    err: unknown,
  ) => {
    const error = err instanceof Error ? err.message : String(err)
    log.warn('action failed', { source: ctx.source, type: action.type, error })
    deps.bus.emit('action.failed', { source: ctx.source, type: action.type, error }, { subject: ctx.source })
    return { type: action.type, ok: false, ms: now() - started, error, code } as const
  }

  return {
    register(type, executor) {
      if (executors.has(type)) throw new Error(`an executor for action type "${type}" is already registered`)
      // The map holds every kind; `run` only ever hands an executor actions of its own type.
      const stored = executor as ActionExecutor
      executors.set(type, stored)
      return () => {
        if (executors.get(type) === stored) executors.delete(type)
      }
    },
    has: (type) => executors.has(type),
    async run(action, ctx) {
      const started = now()
      const executor = executors.get(action.type)
      if (!executor) {
        return fail(
          action,
          ctx,
          started,
          'no-executor',
          `no executor for action type "${action.type}" in this hub`,
        )
      }
      try {
        const detail = await executor(action, ctx)
        return {
          type: action.type,
          ok: true,
          ms: now() - started,
          ...(detail === undefined ? {} : { detail }),
        }
      } catch (err) {
        return fail(action, ctx, started, 'failed', err)
      }
    },
  }
}
