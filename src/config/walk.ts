import type { z } from 'zod'
import { isDuration } from '../util/duration.ts'

/** The kind of value a config leaf holds, which decides how an environment string is read. */
type LeafKind = 'string' | 'number' | 'boolean' | 'json'

export interface Leaf {
  path: string[]
  kind: LeafKind
  secret: boolean
  duration: boolean
  description?: string
}

type AnySchema = z.core.$ZodType

// Wrappers that do not change what a key holds.
const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch'])

function unwrap(schema: AnySchema): AnySchema {
  let s = schema
  for (;;) {
    const def = s._zod.def as { type: string; innerType?: AnySchema; in?: AnySchema }
    if (WRAPPERS.has(def.type) && def.innerType) s = def.innerType
    else if (def.type === 'pipe' && def.in) s = def.in
    else return s
  }
}

// Metadata set anywhere along the wrappers (`.describe()`, `.meta({ secret })`), outermost first.
function metaOf(schema: AnySchema): Record<string, unknown> {
  const found: Record<string, unknown> = {}
  let s: AnySchema | undefined = schema
  while (s) {
    const meta = (s as { meta?: () => Record<string, unknown> | undefined }).meta?.()
    for (const [k, v] of Object.entries(meta ?? {})) if (!(k in found)) found[k] = v
    const def = s._zod.def as { innerType?: AnySchema; in?: AnySchema }
    s = def.innerType ?? def.in
  }
  return found
}

function kindOf(schema: AnySchema): LeafKind {
  const def = schema._zod.def as { type: string; options?: AnySchema[] }
  switch (def.type) {
    case 'number':
    case 'int':
      return 'number'
    case 'boolean':
      return 'boolean'
    case 'string':
    case 'enum':
    case 'literal':
      return 'string'
    case 'union': {
      // A duration is number | string: an env value is the string form.
      const kinds = new Set((def.options ?? []).map((o) => kindOf(unwrap(o))))
      return kinds.has('string') ? 'string' : kinds.has('number') ? 'number' : 'json'
    }
    default:
      return 'json'
  }
}

/** Every leaf key of an object schema, depth first, with how to read it from the environment. */
export function leaves(schema: AnySchema, prefix: string[] = []): Leaf[] {
  const s = unwrap(schema)
  const def = s._zod.def as { type: string; shape?: Record<string, AnySchema> }
  if (def.type !== 'object' || !def.shape) {
    const meta = metaOf(schema)
    return [
      {
        path: prefix,
        kind: kindOf(s),
        secret: meta.secret === true,
        duration: isDuration(schema),
        ...(typeof meta.description === 'string' ? { description: meta.description } : {}),
      },
    ]
  }
  return Object.entries(def.shape).flatMap(([key, child]) => leaves(child, [...prefix, key]))
}

/** `mqtt.allowAnonymous` → `HEARTH_MQTT_ALLOW_ANONYMOUS`. */
export function envName(path: string[]): string {
  return `HEARTH_${path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`
}

/**
 * A copy of `value` with every secret replaced by `mask`, following the schema into nested objects,
 * arrays (`hooks[].secret`) and unions.
 */
export function maskSecrets(schema: AnySchema, value: unknown, mask = '********'): unknown {
  if (value === undefined || value === null) return value
  if (metaOf(schema).secret === true) return mask
  const s = unwrap(schema)
  const def = s._zod.def as {
    type: string
    shape?: Record<string, AnySchema>
    element?: AnySchema
    options?: AnySchema[]
    getter?: () => AnySchema
  }
  if (def.type === 'lazy' && def.getter) return maskSecrets(def.getter(), value, mask)
  if (def.type === 'array' && def.element && Array.isArray(value))
    return value.map((v) => maskSecrets(def.element!, v, mask))
  if (def.type === 'object' && def.shape && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const child = def.shape[k]
      out[k] = child ? maskSecrets(child, v, mask) : v
    }
    return out
  }
  // A union (a discriminated one included): mask with every option that describes the value's keys.
  if (def.type === 'union' && def.options) {
    return def.options.reduce<unknown>((v, option) => maskSecrets(option, v, mask), value)
  }
  return value
}
