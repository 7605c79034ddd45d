/**
 * The one JSON path dialect of the hub (conditions, action templates, pollers, Firebase, MQTT
 * telemetry): `co.value`, `$.weather[0].icon`, `list.0.main.aqi`, `['key with.dots']`. `$` (or an
 * empty path) is the whole value. Filters and wildcards are left out on purpose: a path names one
 * value, so a missing one is reported as such.
 */

import { z } from 'zod'

type PathStep = string | number

// A name is anything but whitespace, `.`, brackets, quotes and `*`: sensor keys such as Shelly's
// `switch:0` or `température` work as written; other keys need `["…"]`.
const STEP = /\.?([^\s.[\]'"*]+)|\[(\d+)\]|\[(?:'([^']*)'|"([^"]*)")\]/y

/** Parses a path into steps (indices as numbers); undefined when the text is not a path. */
export function parseSteps(text: string): PathStep[] | undefined {
  let rest = text.trim()
  if (rest === '$' || rest === '') return []
  if (rest.startsWith('$.')) rest = rest.slice(2)
  else if (rest.startsWith('$[')) rest = rest.slice(1)
  else if (rest.startsWith('$')) return undefined
  const steps: PathStep[] = []
  STEP.lastIndex = 0
  while (STEP.lastIndex < rest.length) {
    const at = STEP.lastIndex
    const m = STEP.exec(rest)
    // A name step needs its dot between steps and none before the first.
    if (!m || (m[1] !== undefined && m[0].startsWith('.') !== at > 0)) return undefined
    // `01` stays a name, so an object's key `01` is found; on an array it is still index 1.
    if (m[1] !== undefined) steps.push(/^(0|[1-9]\d*)$/.test(m[1]) ? Number(m[1]) : m[1])
    else if (m[2] !== undefined) steps.push(Number(m[2]))
    else steps.push(m[3] ?? m[4] ?? '')
  }
  return steps
}

/** The steps of a path as string keys (`items[0]` → `['items', '0']`); undefined when not a path. */
export function parsePath(text: string): string[] | undefined {
  return parseSteps(text)?.map(String)
}

/** Whether `text` parses as a path (for schema refinements). */
export function isPath(text: string): boolean {
  return parseSteps(text) !== undefined
}

/** A config or API string that must be a path, refused at load with an example of one. */
export function jsonPathSchema(example: string) {
  return z.string().refine(isPath, `not a JSON path (e.g. ${example})`)
}

const MISSING = Symbol('missing')

// Own properties only (inherited ones are not data); arrays by index, also given as a digit string.
function follow(root: unknown, steps: readonly PathStep[]): unknown {
  let cur = root
  for (const step of steps) {
    if (cur === null || typeof cur !== 'object') return MISSING
    const key = Array.isArray(cur) ? indexKey(step) : String(step)
    if (key === undefined || !Object.hasOwn(cur, key)) return MISSING
    cur = (cur as Record<string, unknown>)[key]
  }
  return cur
}

function indexKey(step: PathStep): string | undefined {
  const i = typeof step === 'number' ? step : /^\d+$/.test(step) ? Number(step) : Number.NaN
  return Number.isInteger(i) ? String(i) : undefined
}

/** The value at `path` inside `root`; undefined when the path does not parse or any step is missing. */
export function valueAt(root: unknown, path: string | readonly PathStep[]): unknown {
  const steps = typeof path === 'string' ? parseSteps(path) : path
  const value = steps ? follow(root, steps) : MISSING
  return value === MISSING ? undefined : value
}

/** Whether `path` names a present value (null counts as present, as Python's `in` does for keys). */
export function hasPath(root: unknown, path: string | readonly PathStep[]): boolean {
  const steps = typeof path === 'string' ? parseSteps(path) : path
  return steps !== undefined && follow(root, steps) !== MISSING
}

/** A path parsed once, for hot paths: the value it names in each root it is given. */
export type CompiledPath = (root: unknown) => unknown

/** Compiles `text`; a text that is not a path yields a function that finds nothing. */
export function compilePath(text: string): CompiledPath {
  const steps = parseSteps(text)
  return steps ? (root) => valueAt(root, steps) : () => undefined
}

/** A number from a number or a numeric string (`"26.20"`), as Python's `float()` reads sensor values. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v)
    return Number.isFinite(n) ? n : undefined
  }
  if (typeof v === 'boolean') return v ? 1 : 0
  return undefined
}
