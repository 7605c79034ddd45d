/**
 * Dotted paths into parsed JSON: `co.value`, `readings.0.temp`, `$.a.b` (a leading `$.` is allowed,
 * as users of JSONPath write it). Brackets work for indices and keys with dots: `items[0]`, `a["b.c"]`.
 */
export function parsePath(path: string): string[] {
  const p = path.startsWith('$.') ? path.slice(2) : path === '$' ? '' : path
  const out: string[] = []
  const re = /([^.[\]]+)|\[(\d+)\]|\["([^"]*)"\]/g
  for (let m = re.exec(p); m; m = re.exec(p)) out.push(m[1] ?? m[2] ?? m[3] ?? '')
  return out
}

/** The value at `path` in `root`, or undefined when any step is missing. */
export function getPath(root: unknown, path: string | string[]): unknown {
  let cur: unknown = root
  for (const key of typeof path === 'string' ? parsePath(path) : path) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[key]
  }
  return cur
}

/** Whether `path` names a present value (null counts as present, as Python's `in` does for keys). */
export function hasPath(root: unknown, path: string): boolean {
  const keys = parsePath(path)
  let cur: unknown = root
  for (const key of keys) {
    if (cur === null || typeof cur !== 'object' || !(key in (cur as object))) return false
    cur = (cur as Record<string, unknown>)[key]
  }
  return true
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
