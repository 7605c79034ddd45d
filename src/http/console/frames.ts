import { z } from 'zod'
import type { AnyHubEvent } from '../../bus/events.ts'
import type { DeviceConsoleActions } from '../../devices/console-schema.ts'

/** The answer to every console or MQTT request [STYLE 10]. */
export type Reply<T = unknown> =
  | { id: string | number; ok: true; data: T }
  | { id: string | number; ok: false; code: number; error: string }

/** What a console sends: a request answered by a `reply` frame with the same id. */
export const consoleRequestSchema = z.strictObject({
  id: z.union([z.string().max(100), z.number()]),
  action: z.string().min(1).max(100),
  body: z.unknown().optional(),
})
export type ConsoleRequest = z.infer<typeof consoleRequestSchema>

/**
 * Every console action by name: the body a console sends and the `data` of its reply. The
 * channel's `register` holds each module to it and `web/`'s `request` is typed by it.
 */
export type ConsoleActions = DeviceConsoleActions

/** What the console's snapshot says about the hub: ports and per-device topics, for its snippets. */
const consoleHubInfoSchema = z.object({
  version: z.string(),
  mqttPort: z.number().int(),
  mqttTlsPort: z.number().int().nullable(),
  /** MQTT over WebSocket on the HTTP port, when enabled. */
  mqttWsPath: z.string().nullable(),
  /** Per-device topic patterns (`%u` = device id). */
  topics: z.object({ inbox: z.string(), outbox: z.string(), state: z.string(), set: z.string() }),
})
export type ConsoleHubInfo = z.infer<typeof consoleHubInfoSchema>

/** The `snapshot` frame's data: recent events and what the console needs to know of the hub. */
export interface ConsoleSnapshot {
  events: AnyHubEvent[]
  hub?: ConsoleHubInfo
}

/** What the hub sends a console over `/ws`. */
export type ConsoleFrame =
  | { type: 'snapshot'; data: ConsoleSnapshot }
  | { type: 'event'; event: AnyHubEvent }
  /** The console read too slowly: this many frames were dropped, oldest first. */
  | { type: 'dropped'; count: number }
  | ({ type: 'reply' } & Reply)
