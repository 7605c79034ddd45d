import type { Logger } from '../log.ts'
import { type ChangeMemory, type Condition, evaluate } from './conditions.ts'

/** What a trigger hands the engine: the data conditions look at, and who it is about. */
export interface RuleInput {
  /** Matched against each rule's trigger by `matches`. */
  kind: string
  /** Device id, topic or hook name: cooldown, hysteresis and `for` are kept per subject. */
  subject?: string
  /** What conditions' paths read and templates fill from. */
  data: unknown
  /** Extra context for templates and events (topic, device, metric …). */
  meta?: Record<string, unknown>
}

/** The engine's view of a rule; the schema module builds these from config and the API. */
export interface EngineRule<A> {
  id: string
  enabled: boolean
  chain?: string | undefined
  order: number
  step: 'continue' | 'stop' | 'always'
  when?: Condition | undefined
  actions: A[]
  cooldownMs?: number | undefined
  forMs?: number | undefined
  hysteresis?: { clear: Condition; actions: A[] } | undefined
  /** Whether this rule listens to `input`. */
  matches(input: RuleInput): boolean
}

interface ActionOutcome {
  ok: boolean
  error?: string
  [k: string]: unknown
}

type FiringReason = 'fired' | 'cleared'

/** One rule firing (or, in a dry run, what would have happened). */
export interface Firing {
  ruleId: string
  subject?: string | undefined
  reason: FiringReason
  input: unknown
  actions: ActionOutcome[]
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

interface RuleEngineOptions<A> {
  log: Logger
  rules: () => readonly EngineRule<A>[]
  runAction(action: A, input: RuleInput, rule: EngineRule<A>): Promise<ActionOutcome>
  onFiring(f: Firing): void
  now?: () => number
  timers?: Timers
}

interface RuleState {
  lastFiredAt?: number
  disarmed?: boolean
  forTimer?: unknown
  changes: ChangeMemory
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
}

/**
 * Decides which rules fire for each input, in chain order, honouring cooldown, hysteresis and
 * `for`. Inputs are handled one at a time so actions (publishes) keep the order of their causes.
 */
export function createRuleEngine<A>(opts: RuleEngineOptions<A>) {
  const log = opts.log.child('rules')
  const now = opts.now ?? Date.now
  const timers = opts.timers ?? realTimers
  const states = new Map<string, RuleState>()
  let queue: Promise<unknown> = Promise.resolve()

  const stateOf = (rule: EngineRule<A>, subject: string | undefined) => {
    const key = `${rule.id}\u0000${subject ?? ''}`
    let s = states.get(key)
    if (!s) {
      s = { changes: new Map() }
      states.set(key, s)
    }
    return s
  }

  const runActions = async (rule: EngineRule<A>, actions: A[], input: RuleInput, dryRun: boolean) => {
    const outcomes: ActionOutcome[] = []
    for (const action of actions) {
      if (dryRun) {
        outcomes.push({ ok: true, dryRun: true, action: action as unknown })
        continue
      }
      try {
        outcomes.push(await opts.runAction(action, input, rule))
      } catch (err) {
        // A failing action is reported and the rest still run.
        outcomes.push({ ok: false, error: err instanceof Error ? err.message : String(err) })
      }
    }
    return outcomes
  }

  const fire = async (
    rule: EngineRule<A>,
    input: RuleInput,
    state: RuleState,
    dryRun: boolean,
  ): Promise<Firing> => {
    if (!dryRun) {
      state.lastFiredAt = now()
      if (rule.hysteresis) state.disarmed = true
    }
    const firing: Firing = {
      ruleId: rule.id,
      subject: input.subject,
      reason: 'fired',
      input: input.data,
      actions: await runActions(rule, rule.actions, input, dryRun),
    }
    if (!dryRun) opts.onFiring(firing)
    return firing
  }

  /** Evaluates one rule; returns its firing, or undefined. `dryRun` runs no action and keeps no state. */
  const consider = async (
    rule: EngineRule<A>,
    input: RuleInput,
    dryRun: boolean,
  ): Promise<Firing | undefined> => {
    const live = stateOf(rule, input.subject)
    const state: RuleState = dryRun ? { ...live, changes: new Map(live.changes) } : live
    if (rule.hysteresis && state.disarmed) {
      if (!evaluate(rule.hysteresis.clear, input.data, state.changes, 'clear')) return undefined
      state.disarmed = false
      const firing: Firing = {
        ruleId: rule.id,
        subject: input.subject,
        reason: 'cleared',
        input: input.data,
        actions: await runActions(rule, rule.hysteresis.actions, input, dryRun),
      }
      if (!dryRun) opts.onFiring(firing)
      return firing
    }
    const holds = rule.when ? evaluate(rule.when, input.data, state.changes, 'when') : true
    if (!holds) {
      if (state.forTimer !== undefined && !dryRun) {
        timers.clearTimeout(state.forTimer)
        state.forTimer = undefined
      }
      return undefined
    }
    if (rule.cooldownMs && state.lastFiredAt !== undefined && now() - state.lastFiredAt < rule.cooldownMs)
      return undefined
    if (rule.forMs) {
      // The condition must keep holding for `for`: fire when the timer ends unless an input broke it.
      if (dryRun)
        return { ruleId: rule.id, subject: input.subject, reason: 'fired', input: input.data, actions: [] }
      if (state.forTimer === undefined) {
        state.forTimer = timers.setTimeout(() => {
          state.forTimer = undefined
          void enqueue(() => fire(rule, input, state, false))
        }, rule.forMs)
      }
      return undefined
    }
    return fire(rule, input, state, dryRun)
  }

  const evaluateAll = async (input: RuleInput, dryRun: boolean, only?: EngineRule<A>[]) => {
    const candidates = (only ?? opts.rules()).filter((r) => r.enabled && r.matches(input))
    const chains = new Map<string, EngineRule<A>[]>()
    for (const rule of candidates) {
      const key = rule.chain ?? `\u0000${rule.id}`
      chains.set(key, [...(chains.get(key) ?? []), rule])
    }
    const firings: Firing[] = []
    for (const chain of chains.values()) {
      chain.sort((a, b) => a.order - b.order)
      let stopped = false
      for (const rule of chain) {
        if (stopped && rule.step !== 'always') continue
        try {
          const f = await consider(rule, input, dryRun)
          if (f) {
            firings.push(f)
            if (rule.step === 'stop' && f.reason === 'fired') stopped = true
          }
        } catch (err) {
          log.error('rule evaluation failed', { rule: rule.id, err })
        }
      }
    }
    return firings
  }

  function enqueue<T>(task: () => Promise<T>): Promise<T> {
    const next = queue.then(task, task)
    queue = next.catch(() => undefined)
    return next
  }

  return {
    /** Feeds one input to every matching rule, after the inputs before it. */
    handle: (input: RuleInput) => enqueue(() => evaluateAll(input, false)),
    /** What would fire for `input` among `rules` (default: all), without running actions or changing state. */
    dryRun: (input: RuleInput, rules?: EngineRule<A>[]) => evaluateAll(input, true, rules),
    /** Forgets cooldown, hysteresis and pending `for` timers (rules changed or the hub stops). */
    reset() {
      for (const s of states.values()) if (s.forTimer !== undefined) timers.clearTimeout(s.forTimer)
      states.clear()
    },
    /** Resolves when every queued input has been handled. */
    idle: () => queue,
  }
}
