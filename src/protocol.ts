/**
 * The wire contract shared with `web/`: event shapes, console frames and API bodies.
 * `web/` imports only types from here.
 */

/** Detail of every event type on the bus, by type. */
export interface EventMap {
  'hub.started': { version: string; mqttPort: number; httpPort: number }
  'hub.stopping': { signal: string }
  'service.failed': { service: string; error: string; attempt: number; retryInMs: number }
  'service.restarted': { service: string; attempt: number }
  'store.corrupt': { movedTo: string; reason: string }
  alert: { source: string; message: string; severity: 'info' | 'warning' | 'critical' }
}

export type EventType = keyof EventMap

/** One event as it travels on the bus, is stored in the event log and reaches the console. */
export interface HubEvent<K extends EventType = EventType> {
  /** Event-log row id once recorded; absent for events that are not stored. */
  id?: number
  type: K
  /** What the event is about (a device id, a hook name, a service name), for filtering. */
  subject?: string
  /** Milliseconds since the epoch. */
  ts: number
  detail: EventMap[K]
}

export type AnyHubEvent = { [K in EventType]: HubEvent<K> }[EventType]

/** One page of a cursor-paginated list. */
export interface Page<T> {
  items: T[]
  /** Pass as `cursor` to get the next page; absent on the last page. */
  nextCursor?: string
}

/** The answer to every console or MQTT request [STYLE 10]. */
export type Reply<T = unknown> =
  | { id: string | number; ok: true; data: T }
  | { id: string | number; ok: false; code: number; error: string }

/** JSON error body of every HTTP error. */
export interface ErrorBody {
  code: number
  error: string
}
