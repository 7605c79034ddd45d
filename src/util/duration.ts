import { z } from 'zod'

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** Parses `250ms`, `30s`, `5m`, `2h`, `7d` (or a bare number of milliseconds) into milliseconds. */
function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim())
  if (!m) return undefined
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!)
}

// The transform is how `isDuration` recognises a duration schema. A `.meta()` marker would do the
// same but leaks into every JSON Schema generated from the config, the OpenAPI document included,
// as a keyword no JSON Schema validator or linter knows.
function toMilliseconds(v: number | string, ctx: z.RefinementCtx): number {
  if (typeof v === 'number') return v
  const ms = parseDuration(v)
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `"${v}" is not a duration (use e.g. 500ms, 30s, 5m, 2h, 7d)`,
    })
    return z.NEVER
  }
  return ms
}

/** A duration in config: a string with a unit (`5m`) or milliseconds; parsed to milliseconds. */
export const duration = () => z.union([z.number().int().nonnegative(), z.string()]).transform(toMilliseconds)

/** Whether a schema, under its wrappers (`.default()`, `.optional()`, …), is a `duration()`. */
export function isDuration(schema: z.core.$ZodType): boolean {
  let s: z.core.$ZodType | undefined = schema
  while (s) {
    const def = s._zod.def as { type: string; innerType?: z.core.$ZodType; out?: z.core.$ZodType }
    if (def.type === 'pipe' && def.out) {
      const out = def.out._zod.def as { type: string; transform?: unknown }
      return out.type === 'transform' && out.transform === toMilliseconds
    }
    s = def.innerType
  }
  return false
}

/** Renders milliseconds back as the largest exact unit, for printing the effective config. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNITS[unit]!
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}
