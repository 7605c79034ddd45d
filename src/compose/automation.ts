import { type ActionRunner, createActionRunner } from '../actions/runner.ts'
import type { Broker } from '../broker/broker.ts'
import type { Bus } from '../bus/bus.ts'
import type { Action } from '../catalog/actions.ts'
import { registerCoreActions } from '../catalog/core-actions.ts'
import { systemClock } from '../jobs/clock.ts'
import { createScheduler, type Scheduler } from '../jobs/scheduler.ts'
import type { Logger } from '../log.ts'
import { createRulesService, type RulesService } from '../rules/service.ts'
import type { TelemetryWriter } from '../telemetry/writer.ts'
import type { HubBasics } from './core.ts'
import type { ReloadStep } from './reload.ts'

export interface ActionsDeps {
  log: Logger
  bus: Bus
  now: () => number
  /** The broker once the hub has started; throws before. */
  broker(): Broker
  /** The telemetry writer once the hub has started; throws before. */
  telemetryWriter(): TelemetryWriter
}

/** The action runner rules and schedules share, with the kinds the hub carries out itself. */
export function createHubActions(deps: ActionsDeps): ActionRunner<Action> {
  const { log, bus, now } = deps
  // Publish, event and poll are carried out by the hub itself (issue 5); push, slack, setDesired by later bridges.
  const actions = createActionRunner<Action>({ log, bus, now })
  registerCoreActions(actions, {
    bus,
    publish: (message) => deps.broker().publish(message),
    // Pollers' readings go through the writer, like ingest and MQTT readings (issue 5 point 4).
    record: (readings) => deps.telemetryWriter().write(readings, 'poll'),
    now,
  })
  return actions
}

export interface AutomationDeps extends HubBasics {
  actions: ActionRunner
  broker: Broker
}

export interface Automation {
  scheduler: Scheduler
  rules: RulesService
  /** Config rules and schedules (HTTP pollers are schedules' `poll` actions) take a reload. */
  reload: ReloadStep[]
}

/** Schedules and rules, both acting through the shared action runner. */
export function composeAutomation({
  config,
  db,
  bus,
  log,
  now,
  actions,
  broker,
}: AutomationDeps): Automation {
  // Schedules (issue 5 points 3, 4): SQLite-backed, croner-timed, supervised.
  const scheduler = createScheduler({
    db,
    bus,
    log,
    actions,
    clock: systemClock(now),
    timezone: config.timezone,
    configured: config.schedules,
  })
  // Rules (issue 5 point 2): config and API rules, fed by the bus and the broker.
  const rules = createRulesService({
    db,
    bus,
    log,
    broker,
    runner: actions,
    configRules: config.rules,
    now,
  })
  const reload: ReloadStep[] = [
    {
      keys: ['rules'],
      apply(next) {
        rules.setConfigRules(next.rules)
        return undefined
      },
    },
    {
      keys: ['schedules'],
      apply(next) {
        scheduler.setConfigured(next.schedules)
        return undefined
      },
    },
  ]
  return { scheduler, rules, reload }
}
