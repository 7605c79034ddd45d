import type { ActionExecutor, ActionRunner } from '../actions/runner.ts'
import type { BrokerPlugin } from '../broker/hooks.ts'
import type { EventType } from '../bus/events.ts'
import type { Action } from '../catalog/actions.ts'
import type { Config } from '../config/schema.ts'
import type { ApiMount } from '../http/api.ts'
import type { RouteMount } from '../http/app.ts'
import type { ConsoleActionSet } from '../http/console/channel.ts'
import type { CoreDeps } from '../runtime/deps.ts'
import type { ServiceEntry } from '../runtime/service.ts'
import type { ReloadStep } from './reload.ts'

/** What every composition step takes: the config, the open store, the bus, the logger and the clock. */
export interface HubBasics extends Required<CoreDeps> {
  config: Config
}

/** The store, bus, logger and clock out of `basics`, for the many parts built from just those. */
export function coreOf({ db, bus, log, now }: HubBasics): Required<CoreDeps> {
  return { db, bus, log, now }
}

/** The executors a module carries out, by action kind. */
type ActionExecutors = { [K in Action['type']]?: ActionExecutor<Extract<Action, { type: K }>> }

/**
 * One feature of the hub, every one of the same shape (Zigbee2MQTT's extensions): the hub lists
 * modules in start order, starts their services in that order and stops them in reverse, and
 * mounts or registers the rest. Every field but the name is optional.
 */
export interface HubModule {
  readonly name: string
  /** Runtime entries, in start order. */
  services?: readonly ServiceEntry[]
  /** Hooks on the MQTT broker; only modules built before the broker can give them. */
  brokerPlugins?: readonly BrokerPlugin[]
  /** Resource routers under `/api/v1`. */
  api?: readonly ApiMount[]
  /** Routes at their own path. */
  routes?: readonly RouteMount[]
  /** Requests a console may send over `/ws`, by action name. */
  consoleActions?: ConsoleActionSet
  /** Action kinds this module carries out, registered on the shared runner once every module is built. */
  actions?: ActionExecutors
  /** What a config reload can change of this module. */
  reload?: readonly ReloadStep[]
  /** Event types that reach the bus and consoles but not the event log. */
  transientEvents?: readonly EventType[]
}

/** Registers every module's action kinds on the shared runner. */
export function registerActions(runner: ActionRunner<Action>, modules: readonly HubModule[]): void {
  for (const m of modules) {
    for (const [kind, executor] of Object.entries(m.actions ?? {}))
      runner.register(kind as Action['type'], executor as ActionExecutor<Action>)
  }
}

/** One field of every module, flattened in module order. */
export function collect<
  K extends 'services' | 'brokerPlugins' | 'api' | 'routes' | 'reload' | 'transientEvents',
>(modules: readonly HubModule[], key: K): NonNullable<HubModule[K]>[number][] {
  return modules.flatMap((m) => [...(m[key] ?? [])]) as NonNullable<HubModule[K]>[number][]
}
