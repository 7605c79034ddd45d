/**
 * Placeholder templates for hook topics and payloads and for outbound webhook bodies:
 * `hooks/{name}/{body.device}`, `{"text": {message|json}}`. Only `{identifier.path}` with an
 * optional `|json` filter is a placeholder, so JSON braces in a template stay literal.
 */

const PLACEHOLDER = /\{([A-Za-z_][\w-]*(?:\.[\w-]+)*)(\|json)?\}/g

export interface Placeholder {
  path: string[]
  json: boolean
}

/** The placeholders a template uses, in order. */
export function placeholders(template: string): Placeholder[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => ({ path: m[1]!.split('.'), json: Boolean(m[2]) }))
}

/** Placeholders whose first segment is not one of `roots` (for validating a template up front). */
export function unknownPlaceholders(template: string, roots: readonly string[]): string[] {
  return placeholders(template)
    .filter((p) => !roots.includes(p.path[0]!))
    .map((p) => p.path.join('.'))
}

/** Follows `path` into nested objects and arrays; undefined when any step is missing. */
export function lookup(root: unknown, path: readonly string[]): unknown {
  let cur = root
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = Array.isArray(cur) ? cur[Number(key)] : (cur as Record<string, unknown>)[key]
  }
  return cur
}

/** A value as template text: strings as they are, everything else as JSON. */
export function asText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '')
}

export interface RenderOptions {
  /** Applied to each substituted value (a topic template strips level separators). */
  escape?: (text: string) => string
}

/** The result of rendering: the text, and the placeholders that had no value (rendered empty). */
export interface Rendered {
  text: string
  missing: string[]
}

/** Substitutes every placeholder from `context` (headers are looked up case-insensitively). */
export function render(
  template: string,
  context: Record<string, unknown>,
  opts: RenderOptions = {},
): Rendered {
  const missing: string[] = []
  const text = template.replace(PLACEHOLDER, (_all, path: string, json: string | undefined) => {
    const parts = path.split('.')
    if (parts[0] === 'header' && parts[1]) parts[1] = parts[1].toLowerCase()
    const value = lookup(context, parts)
    if (value === undefined) {
      missing.push(path)
      return json ? 'null' : ''
    }
    const out = json ? JSON.stringify(value) : asText(value)
    return opts.escape ? opts.escape(out) : out
  })
  return { text, missing }
}
