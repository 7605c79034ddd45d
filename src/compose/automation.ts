import { brokerPublisher } from '../actions/publish.ts'
import type { ActionRunner } from '../actions/runner.ts'
import type { Broker } from '../broker/broker.ts'
import { coreExecutors } from '../catalog/core-actions.ts'
import type { RequireAuth } from '../http/auth/middleware.ts'
import { createRuleRoutes } from '../http/routes/rules.ts'
import { createScheduleRoutes } from '../http/routes/schedules.ts'
import { systemClock } from '../jobs/clock.ts'
import { createScheduler, type Scheduler } from '../jobs/scheduler.ts'
import { createRulesService, type RulesService } from '../rules/service.ts'
import type { TelemetryWriter } from '../telemetry/writer.ts'
import type { HubBasics, HubModule } from './module.ts'

/**
 * The kinds the hub carries out itself: `publish` through the broker, `event` on the bus, and the
 * `poll` action schedules run (a weather API on an interval), whose readings go through the
 * telemetry writer like ingest and MQTT readings.
 */
export function composeCoreActions(
  deps: Pick<HubBasics, 'bus' | 'now'> & { broker: Broker; writer: TelemetryWriter },
): HubModule {
  const { bus, now, broker, writer } = deps
  const actions = coreExecutors({
    bus,
    publish: brokerPublisher(broker),
    record: (readings) => writer.write(readings, 'poll'),
    now,
  })
  return { name: 'actions', actions }
}

interface AutomationDeps extends HubBasics {
  requireAuth: RequireAuth
  actions: ActionRunner
}

interface SchedulerModule extends HubModule {
  scheduler: Scheduler
}

/** Schedules: SQLite-backed, croner-timed, supervised. */
export function composeScheduler(deps: AutomationDeps): SchedulerModule {
  const { config, db, bus, log, now, requireAuth, actions } = deps
  const scheduler = createScheduler({
    db,
    bus,
    log,
    actions,
    clock: systemClock(now),
    timezone: config.timezone,
    configured: config.schedules,
  })
  return {
    name: 'scheduler',
    scheduler,
    services: [{ service: scheduler, restart: true }],
    api: [{ path: '/schedules', router: createScheduleRoutes({ scheduler, requireAuth }) }],
    reload: [
      {
        keys: ['schedules'],
        apply(next) {
          scheduler.setConfigured(next.schedules)
          return undefined
        },
      },
    ],
  }
}

interface RulesModule extends HubModule {
  rules: RulesService
}

/** Rules: config and API rules, fed by the bus and the broker. */
export function composeRules(deps: AutomationDeps & { broker: Broker }): RulesModule {
  const { config, db, bus, log, now, requireAuth, actions, broker } = deps
  const rules = createRulesService({
    db,
    bus,
    log,
    broker,
    runner: actions,
    configRules: config.rules,
    now,
  })
  return {
    name: 'rules',
    rules,
    services: [rules.service],
    api: [{ path: '/rules', router: createRuleRoutes({ db, bus, log, rules, requireAuth, now }) }],
    reload: [
      {
        keys: ['rules'],
        apply(next) {
          rules.setConfigRules(next.rules)
          return undefined
        },
      },
    ],
  }
}
