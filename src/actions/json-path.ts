/**
 * The small JSON path dialect of actions, templates and pollers: `main.temp`, `$.weather[0].icon`,
 * `list.0.main.aqi`, `['key with.dots']`. `$` (or an empty path) is the whole value. Filters and
 * wildcards are left out on purpose: a path names one value, so a missing one is reported as such.
 */

export type PathStep = string | number

const STEP = /\.?([\w$-]+)|\[(\d+)\]|\[(?:'([^']*)'|"([^"]*)")\]/y

/** Parses a path into steps; undefined when the text is not a path. */
export function parsePath(text: string): PathStep[] | undefined {
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
    if (m[1] !== undefined) steps.push(/^\d+$/.test(m[1]) ? Number(m[1]) : m[1])
    else if (m[2] !== undefined) steps.push(Number(m[2]))
    else steps.push(m[3] ?? m[4] ?? '')
  }
  return steps
}

/** Whether `text` parses as a path (for schema refinements). */
export function isPath(text: string): boolean {
  return parsePath(text) !== undefined
}

/** The value at `path` inside `root`; undefined when any step is missing. */
export function valueAt(root: unknown, path: string | readonly PathStep[]): unknown {
  const steps = typeof path === 'string' ? parsePath(path) : path
  if (!steps) return undefined
  let cur = root
  for (const step of steps) {
    if (cur === null || typeof cur !== 'object') return undefined
    if (Array.isArray(cur)) {
      const i = typeof step === 'number' ? step : Number.NaN
      cur = Number.isInteger(i) ? cur[i] : undefined
    } else {
      const key = String(step)
      cur = Object.hasOwn(cur, key) ? (cur as Record<string, unknown>)[key] : undefined
    }
  }
  return cur
}
