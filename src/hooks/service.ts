import type { Database } from 'bun:sqlite'
import type { Logger } from '../log.ts'
import { periodic } from '../runtime/periodic.ts'
import type { Service } from '../runtime/service.ts'
import { pruneHookData } from './store.ts'

interface HookHousekeepingOptions {
  db: Database
  log: Logger
  /** How long captured deliveries are kept, ms. */
  retentionMs: number
  /** How long accepted delivery ids are remembered, ms. */
  rememberIdsMs: number
  now?: () => number
  everyMs?: number
}

/** Prunes old captured deliveries and remembered delivery ids. */
export function createHookHousekeeping(opts: HookHousekeepingOptions): Service & { prune(): number } {
  const log = opts.log.child('hooks')
  const now = opts.now ?? Date.now

  const prune = () => {
    const removed = pruneHookData(opts.db, now() - opts.retentionMs, now() - opts.rememberIdsMs)
    if (removed) log.info('pruned hook deliveries', { removed })
    return removed
  }
  const timer = periodic(prune, opts.everyMs ?? 3_600_000)

  return { name: 'hook-housekeeping', prune, start: timer.start, stop: timer.stop }
}
