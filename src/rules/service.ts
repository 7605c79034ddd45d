import type { Database } from 'bun:sqlite'
import type { ActionRunner } from '../actions/runner.ts'
import type { Broker } from '../broker/broker.ts'
import { topicMatches } from '../broker/topic-filter.ts'
import type { Bus } from '../bus/bus.ts'
import type { Action } from '../catalog/actions.ts'
import { Errors } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { Message } from '../mqtt/types.ts'
import type { Service } from '../runtime/service.ts'
import { createRuleEngine, type EngineRule, type Firing, type RuleInput } from './engine.ts'
import type { Rule, Trigger } from './schema.ts'
import { createRuleDefinitions, deleteRule, saveRule } from './store.ts'

interface RulesServiceOptions {
  db: Database
  bus: Bus
  log: Logger
  /** The broker, for MQTT triggers (valid once the broker started). */
  broker: Pick<Broker, 'onPublished'>
  runner: ActionRunner
  /** Rules from the config file: listed, evaluated, but not editable through the API. */
  configRules: readonly Rule[]
  now?: () => number
  /** More firings than this within one second suspend a rule (a rule triggering itself). */
  maxFiringsPerSecond?: number
}

interface LoadedRule extends EngineRule<Action> {
  definition: Rule
  origin: 'config' | 'api'
}

/** Whether a trigger listens to this input. */
function triggerMatches(trigger: Trigger, input: RuleInput): boolean {
  if (trigger.type !== input.kind) return false
  const meta = input.meta ?? {}
  switch (trigger.type) {
    case 'mqtt':
      return typeof meta.topic === 'string' && topicMatches(trigger.filter, meta.topic)
    case 'telemetry':
      return (
        (!trigger.metric || trigger.metric === meta.metric) &&
        (!trigger.device || trigger.device === meta.device)
      )
    case 'device':
      return (
        (trigger.event === 'any' || trigger.event === meta.event) &&
        (!trigger.device || trigger.device === meta.device)
      )
    case 'hook':
      return trigger.name === meta.hook
    case 'ingest':
      return !trigger.device || trigger.device === meta.device
    case 'schedule':
      return trigger.schedule === meta.schedule
  }
}

function toEngineRule(definition: Rule, origin: 'config' | 'api'): LoadedRule {
  return {
    definition,
    origin,
    id: definition.id,
    enabled: definition.enabled,
    chain: definition.chain,
    order: definition.order,
    step: definition.step,
    when: definition.when,
    actions: definition.actions,
    cooldownMs: definition.cooldown,
    forMs: definition.for,
    hysteresis: definition.hysteresis,
    matches: (input) => triggerMatches(definition.trigger, input),
  }
}

/** Parses an MQTT payload for conditions: JSON when it is JSON, else the UTF-8 text. */
function payloadData(payload: Buffer | string): unknown {
  const text = typeof payload === 'string' ? payload : payload.toString('utf8')
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * Rules as a service: loads config and API rules, feeds the engine from the bus and the broker,
 * runs actions through the shared action runner, and records every firing as a `rule.fired` event.
 */
export function createRulesService(opts: RulesServiceOptions) {
  const log = opts.log.child('rules')
  const now = opts.now ?? Date.now
  const maxRate = opts.maxFiringsPerSecond ?? 50
  let rules: LoadedRule[] = []
  const suspended = new Set<string>()
  const recent = new Map<string, number[]>()
  let mqttRules = false
  let stopListening: (() => void) | undefined
  // Config rules win over stored ones with their id; a stored rule that does not parse is reported.
  const definitions = createRuleDefinitions(opts.db, opts.configRules, log)

  const reload = () => {
    rules = definitions.list().items.map((r) => toEngineRule(r.definition, r.source))
    mqttRules = rules.some((r) => r.definition.trigger.type === 'mqtt')
    engine.reset()
  }

  const afresh = () => {
    suspended.clear()
    recent.clear()
    reload()
  }

  const tooFast = (ruleId: string): boolean => {
    const t = now()
    const times = (recent.get(ruleId) ?? []).filter((x) => t - x < 1000)
    times.push(t)
    recent.set(ruleId, times)
    return times.length > maxRate
  }

  const engine = createRuleEngine<Action>({
    log,
    now,
    rules: () => rules.filter((r) => !suspended.has(r.id)),
    runAction: async (action, input, rule) => {
      const result = await opts.runner.run(action, {
        source: `rule:${rule.id}`,
        data: { payload: input.data, subject: input.subject, ...input.meta },
      })
      return result.ok
        ? { ok: true, type: result.type }
        : { ok: false, type: result.type, error: result.error }
    },
    onFiring: (f: Firing) => {
      opts.bus.emit(
        'rule.fired',
        {
          rule: f.ruleId,
          reason: f.reason,
          input: f.input,
          actions: f.actions.map((a) => ({
            type: String(a.type),
            ok: a.ok,
            ...(a.error ? { error: a.error } : {}),
          })),
        },
        { subject: f.ruleId },
      )
      // A rule whose own actions keep triggering it would spin forever: suspend it and say so.
      if (tooFast(f.ruleId)) {
        suspended.add(f.ruleId)
        log.error('rule fires too often; suspended until rules are reloaded', { rule: f.ruleId })
        opts.bus.emit(
          'alert',
          {
            source: 'rules',
            severity: 'critical',
            message: `rule ${f.ruleId} fired over ${maxRate} times in 1 s and was suspended`,
          },
          { subject: f.ruleId },
        )
      }
    },
  })

  const feed = (input: RuleInput) => {
    void engine.handle(input)
  }

  const onPublish = (packet: Message) => {
    if (!mqttRules || packet.topic.startsWith('$SYS/')) return
    feed({
      kind: 'mqtt',
      subject: packet.topic,
      data: payloadData(packet.payload),
      meta: { topic: packet.topic },
    })
  }

  const service: Service = {
    name: 'rules',
    start() {
      reload()
      for (const event of ['online', 'offline'] as const) {
        opts.bus.on('rules', `device.${event}`, (e) =>
          feed({
            kind: 'device',
            subject: e.detail.device,
            data: { ...e.detail, event },
            meta: { device: e.detail.device, event },
          }),
        )
      }
      opts.bus.on('rules', 'telemetry.reading', (e) =>
        feed({
          kind: 'telemetry',
          subject: `${e.detail.device}/${e.detail.metric}`,
          data: e.detail,
          meta: { device: e.detail.device, metric: e.detail.metric },
        }),
      )
      opts.bus.on('rules', 'ingest.received', (e) =>
        feed({
          kind: 'ingest',
          subject: e.detail.device,
          data: e.detail.body,
          meta: { device: e.detail.device },
        }),
      )
      opts.bus.on('rules', 'hook.body', (e) =>
        feed({ kind: 'hook', subject: e.detail.hook, data: e.detail.body, meta: { hook: e.detail.hook } }),
      )
      opts.bus.on('rules', 'schedule.run', (e) =>
        feed({ kind: 'schedule', subject: e.detail.id, data: e.detail, meta: { schedule: e.detail.id } }),
      )
      stopListening = opts.broker.onPublished(onPublish)
    },
    stop() {
      opts.bus.off('rules')
      stopListening?.()
      stopListening = undefined
      engine.reset()
    },
  }

  // Every change, through the API or a config reload, starts every rule afresh; a config reload
  // notifies once per changed id, and one reload after it is enough.
  let replacingConfig = false
  definitions.onChange(() => {
    if (!replacingConfig) afresh()
  })

  return {
    service,
    /** Re-reads the rules (after an API change) and forgets state and suspensions. */
    reload: afresh,
    /** Replaces the config file's rules (a config reload); every rule starts afresh, as after an API change. */
    setConfigRules(next: readonly Rule[]) {
      replacingConfig = true
      try {
        definitions.setConfig(next)
      } finally {
        replacingConfig = false
      }
      afresh()
    },
    /** Creates or replaces an API rule (409 for a config rule's id); answers whether it existed. */
    save(id: string, definition: unknown, at = now()): boolean {
      definitions.refuseConfigDefined(id)
      const existed = saveRule(opts.db, id, definition, at)
      definitions.notify(id)
      return existed
    },
    /** Deletes an API rule (409 for a config rule's id, 404 for none). */
    remove(id: string) {
      definitions.refuseConfigDefined(id)
      if (!deleteRule(opts.db, id)) throw Errors.notFound('rule')
      definitions.notify(id)
    },
    /** Stored rules the config file shadows, and stored rules that no longer parse. */
    report() {
      const { shadowed, invalid } = definitions.list()
      return { shadowed, invalid }
    },
    /** Throws the 409 the API answers for a rule the config file defines. */
    refuseConfigDefined: (id: string) => definitions.refuseConfigDefined(id),
    list: (): readonly LoadedRule[] => rules,
    get: (id: string) => rules.find((r) => r.id === id),
    suspended: (id: string) => suspended.has(id),
    /** Feeds an input from outside the bus (ingest, hooks) and resolves once its rules ran. */
    handle: (input: RuleInput) => engine.handle(input),
    /** What `rule` would do for each input, without acting. */
    dryRun: (rule: LoadedRule, input: RuleInput) => engine.dryRun(input, [rule]),
    idle: () => engine.idle(),
  }
}

export type RulesService = ReturnType<typeof createRulesService>

/**
 * Plays `inputs` through a private engine holding only `rule`, on the inputs' own clock (`ts`),
 * so cooldown and hysteresis behave as they would have; actions are listed, not run.
 */
export async function simulate(
  rule: Rule,
  inputs: Array<RuleInput & { ts?: number }>,
  log: Logger,
): Promise<Firing[]> {
  let clock = 0
  const firings: Firing[] = []
  const engine = createRuleEngine<Action>({
    log,
    now: () => clock,
    // `for` cannot be judged from discrete inputs without their future: a firing is reported when
    // the condition holds.
    rules: () => [{ ...toEngineRule(rule, 'api'), forMs: undefined, matches: () => true }],
    runAction: async (action) => ({ ok: true, dryRun: true, action }),
    onFiring: (f) => firings.push(f),
  })
  for (const input of inputs) {
    clock = input.ts ?? clock
    await engine.handle(input)
  }
  await engine.idle()
  return firings
}
