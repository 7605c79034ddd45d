import type { Database } from 'bun:sqlite'
import type { Bus } from '../bus/bus.ts'
import type { Logger } from '../log.ts'

/** What most parts of the hub are built from: the open store, the bus, the logger and the clock. */
export interface CoreDeps {
  db: Database
  bus: Bus
  log: Logger
  /** Date.now unless a test sets the time. */
  now?: () => number
}
