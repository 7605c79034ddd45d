/**
 * A compiled JSON path of the small kind config files use: `co.value`, `$.env.temp`,
 * `sensors[0].value` (same as `sensors.0.value`). Keys holding a `.` cannot be addressed.
 */
export type JsonPath = (root: unknown) => unknown

export function compileJsonPath(path: string): JsonPath {
  const keys = path
    .replace(/^\$\.?/, '')
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((k) => k.length > 0)
  return (root) => {
    let cur = root
    for (const key of keys) {
      if (typeof cur !== 'object' || cur === null) return undefined
      cur = (cur as Record<string, unknown>)[key]
    }
    return cur
  }
}
