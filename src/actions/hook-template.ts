/**
 * Placeholder templates for hook topics and payloads and for outbound webhook bodies:
 * `hooks/{name}/{body.device}`, `{"text": {message|json}}`. Only `{identifier.path}` with an
 * optional `|json` filter is a placeholder, so JSON braces in a template stay literal.
 */

import { valueAt } from '../util/json-path.ts'
import { type Rendered, type RenderOptions, substitute } from './template.ts'

export { valueAt as lookup } from '../util/json-path.ts'
// Text and lookups are the actions' ones; only the placeholder syntax differs.
export { asText } from './template.ts'

const PLACEHOLDER = /\{([A-Za-z_][\w-]*(?:\.[\w-]+)*)(\|json)?\}/g

interface Placeholder {
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

/** Substitutes every placeholder from `context` (headers are looked up case-insensitively). */
export function render(
  template: string,
  context: Record<string, unknown>,
  opts: RenderOptions = {},
): Rendered {
  return substitute(
    template,
    PLACEHOLDER,
    (path) => {
      const parts = path.split('.')
      if (parts[0] === 'header' && parts[1]) parts[1] = parts[1].toLowerCase()
      return valueAt(context, parts)
    },
    opts,
  )
}
