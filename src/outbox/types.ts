import type { OUTBOX_STATES, OutboxEntryView } from './schema.ts'

/**
 * The outbox's contract with the bridges that use it (outbound webhooks, FCM, Slack, Firebase):
 * a bridge registers a handler for its kind and enqueues deliveries; the outbox stores them,
 * retries with back-off and keeps what cannot be delivered as dead letters.
 */

/**
 * What one attempt came to. Bridges translate their vendor's failures into these at their edge
 * [STYLE 9], keeping the original in `reason`.
 */
export type DeliveryOutcome =
  | { status: 'ok'; httpStatus?: number }
  /** Try again later (network error, timeout, 408, 429, 5xx); `retryAfterMs` from `Retry-After`. */
  | { status: 'retry'; reason: string; retryAfterMs?: number; httpStatus?: number }
  /** The target is gone for good (an unregistered push token, a deleted webhook target). */
  | { status: 'dead'; reason: string; httpStatus?: number }
  /** The target refused this request and always will (other 4xx). */
  | { status: 'bad-request'; reason: string; httpStatus?: number }

/** Builders for outcomes, so handlers read as sentences. */
export const Outcome = {
  ok: (httpStatus?: number): DeliveryOutcome => ({ status: 'ok', ...(httpStatus ? { httpStatus } : {}) }),
  retryLater: (
    reason: string,
    opts: { retryAfterMs?: number; httpStatus?: number } = {},
  ): DeliveryOutcome => ({
    status: 'retry',
    reason,
    ...opts,
  }),
  dead: (reason: string, httpStatus?: number): DeliveryOutcome => ({
    status: 'dead',
    reason,
    ...(httpStatus ? { httpStatus } : {}),
  }),
  badRequest: (reason: string, httpStatus?: number): DeliveryOutcome => ({
    status: 'bad-request',
    reason,
    ...(httpStatus ? { httpStatus } : {}),
  }),
} as const

export type DeliveryState = (typeof OUTBOX_STATES)[number]

/**
 * One stored delivery. `payload` is whatever the bridge enqueued (JSON); `attempts` counts the one
 * in progress while `sending`.
 */
export type OutboxEntry = OutboxEntryView

/** Delivers one kind of entry (`webhook`, `fcm`, `slack` …). */
export interface DeliveryHandler {
  deliver(entry: OutboxEntry, signal: AbortSignal): Promise<DeliveryOutcome>
  /** Parallel deliveries to one target; the outbox's configured default when undefined. */
  concurrency?(target: string): number | undefined
}

export interface EnqueueInput {
  kind: string
  target: string
  /** Idempotency key; a random one when absent. Enqueueing an existing key again is a no-op. */
  key?: string
  payload: unknown
  /** How long the delivery may take in all before it goes to the dead letters; the config's maxAge when absent. */
  maxAgeMs?: number
}
