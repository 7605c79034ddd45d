import { z } from 'zod'

const BRIDGE_KINDS = ['webhook', 'fcm', 'slack', 'rtdb', 'firestore', 'poller'] as const
const BRIDGE_STATES = ['ok', 'degraded', 'down', 'disabled'] as const
export type BridgeKind = (typeof BRIDGE_KINDS)[number]
/** ok: delivering; degraded: retrying or dead letters wait; down: cannot deliver; disabled: not set up. */
export type BridgeState = (typeof BRIDGE_STATES)[number]

/** One bridge to the outside, `GET /api/v1/bridges` (the console's bridge status). */
export const bridgeStatusViewSchema = z
  .object({
    id: z.string().meta({ example: 'slack:default', description: '`<kind>:<name>`' }),
    kind: z.enum(BRIDGE_KINDS),
    name: z.string().describe('webhook target, Slack destination, Firebase part or poller schedule id'),
    state: z
      .enum(BRIDGE_STATES)
      .describe(
        'ok: delivering; degraded: dead letters wait or the last attempt failed and is retried; ' +
          'down: cannot deliver now (circuit open, Slack destination gone, push paused, ' +
          'Firebase unreachable, last poll failed); disabled: not configured or turned off',
      ),
    detail: z.string().nullable().describe('why, for a person'),
    pending: z.number().int().describe('its deliveries waiting in the outbox'),
    dead: z.number().int().describe('its dead letters'),
    lastSuccessAt: z.number().int().nullable(),
    lastErrorAt: z.number().int().nullable(),
    lastError: z.string().nullable(),
  })
  .meta({ id: 'BridgeStatus' })
export type BridgeStatusView = z.infer<typeof bridgeStatusViewSchema>
