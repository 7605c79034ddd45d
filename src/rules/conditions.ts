import { z } from 'zod'
import { hasPath, jsonPathSchema, toNumber, valueAt } from '../util/json-path.ts'

const path = () => jsonPathSchema('co.value or $.readings[0].t')

const comparison = z.strictObject({
  path: path().default('$'),
  op: z.enum(['>=', '>', '<=', '<', '==', '!=']),
  value: z.union([z.number(), z.string(), z.boolean(), z.null()]),
})
const between = z.strictObject({
  path: path().default('$'),
  op: z.literal('between'),
  min: z.number(),
  max: z.number(),
})
const exists = z.strictObject({ path: path(), op: z.literal('exists') })
const changed = z.strictObject({ path: path().default('$'), op: z.literal('changed') })

export type Condition =
  | z.infer<typeof comparison>
  | z.infer<typeof between>
  | z.infer<typeof exists>
  | z.infer<typeof changed>
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }

/** A condition over JSON paths of the input: a comparison, or `all` / `any` / `not` of conditions. */
export const conditionSchema: z.ZodType<Condition, unknown> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(conditionSchema).min(1) }),
    z.strictObject({ any: z.array(conditionSchema).min(1) }),
    z.strictObject({ not: conditionSchema }),
    z.discriminatedUnion('op', [comparison, between, exists, changed]),
  ]),
) as z.ZodType<Condition, unknown>

/** Remembers the previous value of each `changed` path, per rule and subject. */
export type ChangeMemory = Map<string, unknown>

/**
 * Evaluates `cond` against `input`. Numbers compare numerically, numeric strings included (source
 * (d)'s sensors send `"26.20"`); a missing value never satisfies a comparison.
 */
export function evaluate(cond: Condition, input: unknown, memory?: ChangeMemory, memoryKey = ''): boolean {
  if ('all' in cond) return cond.all.every((c, i) => evaluate(c, input, memory, `${memoryKey}.all${i}`))
  if ('any' in cond) {
    // Evaluate every branch so `changed` memories stay current even when an earlier branch matched.
    const results = cond.any.map((c, i) => evaluate(c, input, memory, `${memoryKey}.any${i}`))
    return results.some(Boolean)
  }
  if ('not' in cond) return !evaluate(cond.not, input, memory, `${memoryKey}.not`)
  switch (cond.op) {
    case 'exists':
      return hasPath(input, cond.path)
    case 'changed': {
      const now = JSON.stringify(valueAt(input, cond.path) ?? null)
      const key = `${memoryKey}:${cond.path}`
      const had = memory?.has(key) ?? false
      const before = memory?.get(key)
      memory?.set(key, now)
      return had && before !== now
    }
    case 'between': {
      const n = toNumber(valueAt(input, cond.path))
      return n !== undefined && n >= cond.min && n <= cond.max
    }
    default:
      return compare(valueAt(input, cond.path), cond.op, cond.value)
  }
}

function compare(actual: unknown, op: '>=' | '>' | '<=' | '<' | '==' | '!=', expected: unknown): boolean {
  if (actual === undefined) return op === '!='
  const a = toNumber(actual)
  const b = toNumber(expected)
  const numeric = a !== undefined && b !== undefined && typeof expected !== 'boolean'
  switch (op) {
    case '==':
      return numeric ? a === b : actual === expected
    case '!=':
      return numeric ? a !== b : actual !== expected
    default: {
      if (!numeric) return false
      if (op === '>=') return a >= b
      if (op === '>') return a > b
      if (op === '<=') return a <= b
      return a < b
    }
  }
}
