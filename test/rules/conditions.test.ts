import { describe, expect, it } from 'bun:test'
import { type Condition, conditionSchema, evaluate } from '../../src/rules/conditions.ts'

const body = {
  co: { value: '26.20', sensorid: '0005' },
  no2: { value: 52 },
  ok: true,
  name: 'pi',
  none: null,
}

describe('conditions', () => {
  it('compares numbers and numeric strings numerically', () => {
    const cases: Array<[Condition, boolean]> = [
      [{ path: 'co.value', op: '>=', value: 26.2 }, true],
      [{ path: 'co.value', op: '>', value: 26.2 }, false],
      [{ path: 'no2.value', op: '<', value: 88 }, true],
      [{ path: 'no2.value', op: '<=', value: 52 }, true],
      [{ path: 'no2.value', op: '==', value: '52.0' }, true],
      [{ path: 'no2.value', op: '!=', value: 52 }, false],
      [{ path: 'name', op: '==', value: 'pi' }, true],
      [{ path: 'name', op: '>', value: 1 }, false],
      [{ path: 'ok', op: '==', value: true }, true],
      [{ path: 'missing', op: '>=', value: 0 }, false],
      [{ path: 'missing', op: '!=', value: 0 }, true],
      [{ path: 'no2.value', op: 'between', min: 50, max: 60 }, true],
      [{ path: 'co.value', op: 'between', min: 30, max: 60 }, false],
    ]
    for (const [cond, want] of cases) expect([cond, evaluate(cond, body)]).toEqual([cond, want])
  })

  it('tests presence with exists, a null value counting as present', () => {
    expect(evaluate({ path: 'none', op: 'exists' }, body)).toBe(true)
    expect(evaluate({ path: 'co.sensorid', op: 'exists' }, body)).toBe(true)
    expect(evaluate({ path: 'nh3', op: 'exists' }, body)).toBe(false)
  })

  it('combines with all, any and not', () => {
    const all: Condition = {
      all: [
        { path: 'co', op: 'exists' },
        { path: 'no2', op: 'exists' },
        { path: 'nh3', op: 'exists' },
      ],
    }
    expect(evaluate(all, body)).toBe(false)
    expect(evaluate({ any: [all, { path: 'ok', op: '==', value: true }] }, body)).toBe(true)
    expect(evaluate({ not: all }, body)).toBe(true)
  })

  it('validates with one schema and names what is wrong', () => {
    expect(conditionSchema.safeParse({ path: 'a', op: '>=', value: 1 }).success).toBe(true)
    expect(conditionSchema.safeParse({ all: [{ path: 'a', op: 'exists' }] }).success).toBe(true)
    expect(conditionSchema.safeParse({ path: 'a', op: '=~', value: 1 }).success).toBe(false)
    expect(conditionSchema.safeParse({ path: 'a', op: 'between', min: 1 }).success).toBe(false)
    expect(conditionSchema.safeParse({ all: [] }).success).toBe(false)
  })
})
