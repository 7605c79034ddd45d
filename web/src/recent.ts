import type { AnyHubEvent } from '../../src/protocol.ts'
import type { Live } from './live.ts'

/** Events kept in the browser; older ones fall off (the event log keeps them: GET /api/v1/events). */
export const RECENT_MAX = 500

export interface RecentEvents {
  /** Oldest first. */
  items(): AnyHubEvent[]
  clear(): void
  stop(): void
}

/**
 * The console's memory of events since login, seeded by every snapshot (the hub's latest stored
 * events) and fed by the live channel, so the timeline shows what happened on other pages too.
 */
export function createRecentEvents(live: Live, max = RECENT_MAX): RecentEvents {
  let items: AnyHubEvent[] = []
  const ids = new Set<number>()
  const add = (e: AnyHubEvent) => {
    if (e.id !== undefined) {
      if (ids.has(e.id)) return
      ids.add(e.id)
    }
    items.push(e)
  }
  const trim = () => {
    if (items.length <= max) return
    for (const e of items.splice(0, items.length - max)) if (e.id !== undefined) ids.delete(e.id)
  }
  const seed = () => {
    for (const e of live.snapshot.events) add(e)
    items.sort((a, b) => a.ts - b.ts)
    trim()
  }
  const offStatus = live.onStatus((s) => {
    if (s === 'open') seed()
  })
  const offEvent = live.onEvent((e) => {
    add(e)
    trim()
  })
  if (live.status === 'open') seed()
  return {
    items: () => items,
    clear() {
      items = []
      ids.clear()
    },
    stop() {
      offStatus()
      offEvent()
    },
  }
}
