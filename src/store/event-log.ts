import type { Database } from 'bun:sqlite'
import type { Bus } from '../bus/bus.ts'
import type { EventType } from '../bus/events.ts'
import type { Logger } from '../log.ts'
import { periodic } from '../runtime/periodic.ts'
import type { Service } from '../runtime/service.ts'
import { insertEvent, pruneEvents } from './events.ts'

interface EventLogOptions {
  db: Database
  bus: Bus
  log: Logger
  /** How long events are kept, ms. */
  retentionMs: number
  /** Event types too frequent or too minor to keep (they still reach live consoles). */
  transient?: ReadonlySet<EventType>
  now?: () => number
  pruneEveryMs?: number
}

/** Records every event that matters to a person, and enforces retention. */
export function createEventLog(opts: EventLogOptions): Service & { prune(): number; stop(): void } {
  const log = opts.log.child('events')
  const now = opts.now ?? Date.now
  const transient = opts.transient ?? new Set<EventType>()

  const prune = () => {
    const removed = pruneEvents(opts.db, now() - opts.retentionMs)
    if (removed) log.info('pruned old events', { removed })
    return removed
  }
  const timer = periodic(prune, opts.pruneEveryMs ?? 3_600_000)

  return {
    name: 'event-log',
    prune,
    start() {
      // Registered before any other listener so the id is set when consoles see the event.
      opts.bus.onAny('event-log', (event) => {
        if (transient.has(event.type)) return
        event.id = insertEvent(opts.db, event)
      })
      timer.start()
    },
    stop() {
      opts.bus.off('event-log')
      timer.stop()
    },
  }
}
