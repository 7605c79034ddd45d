/**
 * The key paths whose values differ between two parsed configs (`mqtt.acl`, `log.level`), sorted.
 * Objects are followed key by key; anything else (arrays included: a list of rules or hooks is
 * one setting) is compared whole.
 */
export function diffConfig(before: unknown, after: unknown, prefix = ''): string[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)])
    return [...keys]
      .flatMap((key) => diffConfig(before[key], after[key], prefix ? `${prefix}.${key}` : key))
      .sort()
  }
  return sameValue(before, after) ? [] : [prefix || '(root)']
}

/** Whether `path` is `key` or lies under it (`mqtt.tls.cert` under `mqtt.tls`). */
export function pathUnder(path: string, key: string): boolean {
  return path === key || path.startsWith(`${key}.`)
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  return JSON.stringify(a) === JSON.stringify(b)
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * A copy of `next` with the values at `paths` taken from `before`: after a reload, the config
 * that really runs (keys that need a restart keep their old values until then).
 */
export function withPathsFrom<T>(next: T, before: T, paths: readonly string[]): T {
  const out = structuredClone(next)
  for (const path of paths) {
    const keys = path.split('.')
    let from: unknown = before
    let to = out as Record<string, unknown>
    for (const key of keys.slice(0, -1)) {
      from = isPlainObject(from) ? from[key] : undefined
      if (!isPlainObject(to[key])) to[key] = {}
      to = to[key] as Record<string, unknown>
    }
    const last = keys.at(-1)!
    const value = isPlainObject(from) ? from[last] : undefined
    if (value === undefined) delete to[last]
    else to[last] = structuredClone(value)
  }
  return out
}
