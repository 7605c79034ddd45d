import { describe, expect, it } from 'bun:test'
import { silentLogger } from '../../src/log.ts'
import type { Condition } from '../../src/rules/conditions.ts'
import { createRuleEngine, type EngineRule, type Firing, type Timers } from '../../src/rules/engine.ts'

type Act = string

function rule(id: string, over: Partial<EngineRule<Act>> = {}): EngineRule<Act> {
  return { id, enabled: true, order: 0, step: 'continue', actions: [id], matches: () => true, ...over }
}

/** Timers driven by the test: `advance(ms)` runs what is due. */
function manualClock() {
  let t = 0
  let pending: Array<{ at: number; fn: () => void; id: number }> = []
  let nextId = 1
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      const id = nextId++
      pending.push({ at: t + ms, fn, id })
      return id
    },
    clearTimeout: (h) => {
      pending = pending.filter((p) => p.id !== h)
    },
  }
  return {
    now: () => t,
    timers,
    advance(ms: number) {
      t += ms
      const due = pending.filter((p) => p.at <= t)
      pending = pending.filter((p) => p.at > t)
      for (const p of due) p.fn()
    },
  }
}

function setup(rules: EngineRule<Act>[], opts: { failing?: string[] } = {}) {
  const clock = manualClock()
  const ran: string[] = []
  const firings: Firing[] = []
  const engine = createRuleEngine<Act>({
    log: silentLogger(),
    rules: () => rules,
    runAction: async (a) => {
      if (opts.failing?.includes(a)) throw new Error(`${a} failed`)
      ran.push(a)
      return { ok: true }
    },
    onFiring: (f) => firings.push(f),
    now: clock.now,
    timers: clock.timers,
  })
  return { engine, ran, firings, clock }
}

const gte = (path: string, value: number): Condition => ({ path, op: '>=', value })
const input = (data: unknown, subject = 'pi') => ({ kind: 'ingest', subject, data })

describe('rule engine', () => {
  it("runs a chain in order: a 'stop' rule that fires skips the rest except 'always' steps", async () => {
    const rules = [
      rule('iot_core', { chain: 'gas', order: 1, step: 'stop', when: { path: 'iot_core', op: 'exists' } }),
      rule('emergency', { chain: 'gas', order: 2, step: 'stop', when: { path: 'emergency', op: 'exists' } }),
      rule('no2', { chain: 'gas', order: 3, when: gte('no2.value', 88) }),
      rule('co', { chain: 'gas', order: 4, when: gte('co.value', 1805) }),
      rule('success', { chain: 'gas', order: 9, step: 'always' }),
    ]
    const { engine, ran } = setup(rules)
    await engine.handle(input({ iot_core: 1, no2: { value: 100 } }))
    await engine.handle(input({ no2: { value: '88.0' }, co: { value: '26.20' } }))
    await engine.handle(input({ emergency: true }))
    expect(ran).toEqual(['iot_core', 'success', 'no2', 'success', 'emergency', 'success'])
  })

  it('keeps a cooldown per subject', async () => {
    const { engine, ran, clock } = setup([rule('hot', { when: gte('t', 30), cooldownMs: 60_000 })])
    await engine.handle(input({ t: 31 }, 'a'))
    await engine.handle(input({ t: 32 }, 'a'))
    await engine.handle(input({ t: 33 }, 'b'))
    clock.advance(60_000)
    await engine.handle(input({ t: 34 }, 'a'))
    expect(ran).toEqual(['hot', 'hot', 'hot'])
  })

  it('re-arms a hysteresis rule only after the clear condition holds, running the clear action', async () => {
    const { engine, ran, firings } = setup([
      rule('alarm', {
        when: gte('no2', 88),
        hysteresis: { clear: { path: 'no2', op: '<', value: 80 }, actions: ['clear'] },
      }),
    ])
    for (const v of [90, 95, 85, 79, 81, 90]) await engine.handle(input({ no2: v }))
    expect(ran).toEqual(['alarm', 'clear', 'alarm'])
    expect(firings.map((f) => f.reason)).toEqual(['fired', 'cleared', 'fired'])
  })

  it("fires a 'for' rule only when the condition held for the whole duration", async () => {
    const { engine, ran, clock } = setup([
      rule('door', { when: { path: 'open', op: '==', value: true }, forMs: 5000 }),
    ])
    await engine.handle(input({ open: true }))
    clock.advance(3000)
    await engine.handle(input({ open: false }))
    clock.advance(5000)
    await engine.idle()
    expect(ran).toEqual([])
    await engine.handle(input({ open: true }))
    clock.advance(5000)
    await engine.idle()
    expect(ran).toEqual(['door'])
  })

  it("fires 'changed' only when the value differs from the previous input", async () => {
    const { engine, ran } = setup([rule('mode', { when: { path: 'mode', op: 'changed' } })])
    for (const mode of ['eco', 'eco', 'boost', 'boost', 'eco']) await engine.handle(input({ mode }))
    expect(ran).toEqual(['mode', 'mode'])
  })

  it('reports a failing action and still runs the other actions and rules', async () => {
    const { engine, ran, firings } = setup([rule('a', { actions: ['bad', 'good'] }), rule('b')], {
      failing: ['bad'],
    })
    await engine.handle(input({}))
    expect(ran).toEqual(['good', 'b'])
    expect(firings[0]!.actions).toEqual([{ ok: false, error: 'bad failed' }, { ok: true }])
  })

  it('answers a dry run without running actions or changing cooldown state', async () => {
    const { engine, ran } = setup([rule('hot', { when: gte('t', 30), cooldownMs: 60_000 })])
    const would = await engine.dryRun(input({ t: 40 }))
    expect(would.map((f) => f.ruleId)).toEqual(['hot'])
    expect(ran).toEqual([])
    await engine.handle(input({ t: 40 }))
    expect(ran).toEqual(['hot'])
  })

  it('ignores disabled rules and rules whose trigger does not match', async () => {
    const { engine, ran } = setup([
      rule('off', { enabled: false }),
      rule('other', { matches: (i) => i.kind === 'mqtt' }),
      rule('on'),
    ])
    await engine.handle(input({}))
    expect(ran).toEqual(['on'])
  })
})
