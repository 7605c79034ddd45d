import { diffConfig, pathUnder } from '../config/diff.ts'
import type { Config } from '../config/schema.ts'

/** What one step of a reload did beyond its changed keys. */
interface StepResult {
  /** Paths applied although their value did not change (a certificate file with new content). */
  applied?: string[]
  /** Changed paths this step cannot apply after all (TLS turned off while running). */
  needsRestart?: string[]
}

/** One part of the hub that can take a new config while running. */
export interface ReloadStep {
  /** Config key paths this step applies; a changed path under none of the steps needs a restart. */
  keys: readonly string[]
  /** Also run when none of its keys changed: what it reads may have changed behind the same path. */
  always?: boolean
  /**
   * The step reads files and may throw. Such steps throw before changing anything and run before
   * the others, so a failed reload leaves the hub as it was.
   */
  canFail?: boolean
  /** Applies `next`; `changed` are the changed paths under `keys`. */
  apply(next: Config, changed: string[]): StepResult | undefined
}

/** The outcome of one reload: the changed key paths the hub applied and those that wait for a restart. */
export interface ReloadResult {
  applied: string[]
  needsRestart: string[]
}

/**
 * Applies `next` through `steps` (those that can fail first) and answers what was applied and
 * what needs a restart. Throws what a step threw.
 */
export function applyReload(steps: readonly ReloadStep[], before: Config, next: Config): ReloadResult {
  const changed = diffConfig(before, next)
  const applied = new Set<string>()
  const needsRestart = new Set(
    changed.filter((path) => !steps.some((s) => s.keys.some((k) => pathUnder(path, k)))),
  )
  for (const step of [...steps.filter((s) => s.canFail), ...steps.filter((s) => !s.canFail)]) {
    const mine = changed.filter((path) => step.keys.some((k) => pathUnder(path, k)))
    if (!mine.length && !step.always) continue
    const result = step.apply(next, mine)
    const refused = new Set(result?.needsRestart ?? [])
    for (const path of mine) (refused.has(path) ? needsRestart : applied).add(path)
    for (const path of result?.applied ?? []) applied.add(path)
  }
  return { applied: [...applied].sort(), needsRestart: [...needsRestart].sort() }
}
