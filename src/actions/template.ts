import { isPath, valueAt } from '../util/json-path.ts'

/**
 * `{{path}}` templates of actions: `{"temp": {{response.main.temp}}}`. Double braces so JSON
 * braces stay literal; `{{path|json}}` writes the value as JSON (a string gets its quotes).
 */
const PLACEHOLDER = /\{\{\s*([^{}|]+?)\s*(?:\|\s*(json)\s*)?\}\}/g

/** What a template rendered to, and the paths that had no value (rendered empty, or `null` with `|json`). */
export interface Rendered {
  text: string
  missing: string[]
}

export interface RenderOptions {
  /** Applied to each substituted value (a topic keeps a value inside one level). */
  escape?: (text: string) => string
}

/** The placeholder paths of a template that do not parse, for validating it up front. */
export function badPlaceholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!).filter((p) => !isPath(p))
}

/** A value as text: strings as they are, everything else as JSON. */
export function asText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '')
}

/** Substitutes every placeholder with the value at its path in `context`. */
export function render(template: string, context: unknown, opts: RenderOptions = {}): Rendered {
  return substitute(template, PLACEHOLDER, (path) => valueAt(context, path), opts)
}

/**
 * Replaces each match of `pattern` (group 1 the path, group 2 set for the `json` filter) with what
 * `find` finds for it; the `{{path}}` templates here and the hooks' `{path}` ones share it.
 */
export function substitute(
  template: string,
  pattern: RegExp,
  find: (path: string) => unknown,
  opts: RenderOptions = {},
): Rendered {
  const missing: string[] = []
  const text = template.replace(pattern, (_all, path: string, json: string | undefined) => {
    const value = find(path)
    if (value === undefined) {
      missing.push(path)
      return json ? 'null' : ''
    }
    const out = json ? JSON.stringify(value) : asText(value)
    return opts.escape ? opts.escape(out) : out
  })
  return { text, missing }
}
