import { z } from 'zod'

/**
 * A config file's list of named items, none by default; a name given twice is an issue at the
 * second item's `name` (`duplicate hook github`).
 */
export function uniqueNamed<T extends z.ZodType<{ name: string }>>(item: T, what: string) {
  return z
    .array(item)
    .default([])
    .superRefine((items, ctx) => {
      const seen = new Set<string>()
      for (const [i, { name }] of items.entries()) {
        if (seen.has(name))
          ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate ${what} ${name}` })
        seen.add(name)
      }
    })
}
