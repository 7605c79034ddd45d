import type { Database } from 'bun:sqlite'
import { type Bus, createBus } from '../bus/bus.ts'
import type { AnyHubEvent } from '../bus/events.ts'
import { silentLogger } from '../log.ts'
import { insertEvent } from '../store/events.ts'

/**
 * The bus of a CLI command that changes the hub's data: the CLI has no listeners, so each event
 * goes straight to the hub's event log, where the console's history and a running hub see it. A
 * failed write fails the command, as the change it records would otherwise go unseen.
 */
export function eventLogBus(db: Database, now: () => number = Date.now): Pick<Bus, 'emit'> {
  // A bus without listeners only shapes the event.
  const shape = createBus(silentLogger(), now)
  return {
    emit(type, detail, opts) {
      const event = shape.emit(type, detail, opts)
      insertEvent(db, event as unknown as AnyHubEvent)
      return event
    },
  }
}
