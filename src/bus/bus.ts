import type { Logger } from '../log.ts'
import type { AnyHubEvent, EventMap, EventType, HubEvent } from './events.ts'

type Listener<K extends EventType> = (event: HubEvent<K>) => void
type AnyListener = (event: AnyHubEvent) => void

interface Entry {
  owner: string
  type: EventType | '*'
  fn: (event: AnyHubEvent) => void
}

/** The in-process event bus: typed, listeners owned so `off(owner)` releases them [STYLE 5]. */
export interface Bus {
  on<K extends EventType>(owner: string, type: K, fn: Listener<K>): void
  onAny(owner: string, fn: AnyListener): void
  off(owner: string): void
  emit<K extends EventType>(
    type: K,
    detail: EventMap[K],
    opts?: { subject?: string; ts?: number },
  ): HubEvent<K>
  listenerCount(): number
}

export function createBus(log: Logger, now: () => number = Date.now): Bus {
  let entries: Entry[] = []

  const deliver = (entry: Entry, event: AnyHubEvent) => {
    try {
      entry.fn(event)
    } catch (err) {
      // One throwing listener must not keep the event from the others.
      log.error('bus listener threw', { owner: entry.owner, type: event.type, err })
    }
  }

  return {
    on(owner, type, fn) {
      entries.push({ owner, type, fn: fn as unknown as Entry['fn'] })
    },
    onAny(owner, fn) {
      entries.push({ owner, type: '*', fn })
    },
    off(owner) {
      entries = entries.filter((e) => e.owner !== owner)
    },
    emit(type, detail, opts) {
      const event = {
        type,
        detail,
        ts: opts?.ts ?? now(),
        ...(opts?.subject ? { subject: opts.subject } : {}),
      } as HubEvent<typeof type>
      // Snapshot so listeners added or removed during delivery do not disturb this one.
      for (const entry of entries.slice()) {
        if (entry.type === '*' || entry.type === type) deliver(entry, event as unknown as AnyHubEvent)
      }
      return event
    },
    listenerCount: () => entries.length,
  }
}
