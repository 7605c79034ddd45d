/**
 * The Realtime Database's data model on a plain JSON tree: paths of `/`-separated keys, `set`
 * replaces a node, `update` sets several children (keys may be paths), null deletes, and a node
 * left without children disappears, as it does in the database.
 */

export type Tree = unknown

/** `/a//b/` → `['a', 'b']`. */
export function segments(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0)
}

export function joinPath(...parts: string[]): string {
  return parts.flatMap(segments).join('/')
}

/** A character the database refuses in a key: . # $ [ ] and control characters (https://firebase.google.com/docs/database/web/structure-data). */
export function isBadKeyChar(ch: string): boolean {
  const code = ch.codePointAt(0) ?? 0
  return '.#$[]'.includes(ch) || code < 0x20 || code === 0x7f
}

/** Why a path cannot be written, or undefined when it can. */
export function pathProblem(path: string): string | undefined {
  const segs = segments(path)
  if (!segs.length) return 'the root cannot be mirrored'
  const bad = segs.find((s) => Array.from(s).some(isBadKeyChar) || Buffer.byteLength(s) > 768)
  return bad === undefined ? undefined : `"${bad}" is not a valid key (no . # $ [ ] or control characters)`
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

// Arrays are stored as objects keyed by index, as the database does.
const asObject = (v: unknown): Record<string, unknown> | undefined =>
  isObject(v) ? v : Array.isArray(v) ? Object.fromEntries(v.map((x, i) => [String(i), x])) : undefined

export function getAt(tree: Tree, path: string | string[]): unknown {
  let node: unknown = tree
  for (const s of typeof path === 'string' ? segments(path) : path) {
    const o = asObject(node)
    if (!o || !(s in o)) return null
    node = o[s]
  }
  return node ?? null
}

/** The tree with `value` at `path` (null removes it); the input is not changed. */
export function setAt(tree: Tree, path: string | string[], value: unknown): Tree {
  const segs = typeof path === 'string' ? segments(path) : path
  const clean = prune(value)
  if (!segs.length) return clean
  const [head, ...rest] = segs as [string, ...string[]]
  const o = { ...(asObject(tree) ?? {}) }
  const child = setAt(o[head] ?? null, rest, clean)
  if (child === null) delete o[head]
  else o[head] = child
  return Object.keys(o).length ? o : null
}

/** A PATCH: each key of `children` (a relative path) set under `path`. */
export function updateAt(tree: Tree, path: string, children: Record<string, unknown>): Tree {
  let out = tree
  for (const [key, value] of Object.entries(children))
    out = setAt(out, [...segments(path), ...segments(key)], value)
  return out
}

/** Deep equality of JSON values, with the database's rule that an empty object is no value. */
export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(prune(a))) === JSON.stringify(canonical(prune(b)))
}

// Empty objects and nulls inside a value are dropped: the database does not keep them.
function prune(v: unknown): unknown {
  if (v === undefined) return null
  if (Array.isArray(v)) {
    const items = v.map(prune)
    return items.every((x) => x === null) ? null : items
  }
  if (!isObject(v)) return v
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) {
    const p = prune(x)
    if (p !== null) out[k] = p
  }
  return Object.keys(out).length ? out : null
}

function canonical(v: unknown): unknown {
  const o = asObject(v)
  if (!o) return v
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, canonical(o[k])]),
  )
}
