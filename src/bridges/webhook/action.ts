import { z } from 'zod'
import type { ActionExecutor } from '../../actions/runner.ts'
import { asText, render } from '../../actions/template.ts'
import type { Outbox } from '../../outbox/outbox.ts'
import { type DeliveryHandler, Outcome } from '../../outbox/types.ts'
import { VERSION } from '../../version.ts'
import type { OutboxAction } from '../outbox-action.ts'
import { WEBHOOK_KIND } from './bridge.ts'
import type { WebhookClient } from './client.ts'
import type { QueuedMessage } from './message.ts'
import type { TargetRegistry } from './targets.ts'

/** POSTs to an outbound webhook target (by name) or a URL, delivered through the outbox. */
export const webhookActionSchema = z
  .strictObject({
    type: z.literal('webhook'),
    target: z.string().min(1).optional().describe('name of an outbound webhook target'),
    url: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('or a URL, for a target-less POST'),
    body: z.unknown().optional().describe('a template string or a JSON value; default: the action context'),
  })
  .refine((a) => (a.target === undefined) !== (a.url === undefined), 'give target or url, exactly one')

type WebhookAction = z.infer<typeof webhookActionSchema>

/** The outbox kind of webhook actions that name a URL rather than a target. */
export const ACTION_WEBHOOK_KIND = 'action-webhook'

/** What the outbox keeps for a URL webhook action. */
interface UrlDelivery {
  body: string
  contentType: string
}

interface WebhookActionDeps {
  outbox: Pick<Outbox, 'enqueue' | 'register'>
  targets: Pick<TargetRegistry, 'get'>
  client: WebhookClient
  /** Per-attempt timeout of URL deliveries (targets have their own). Default 10 s. */
  timeoutMs?: number
  now?: () => number
}

/**
 * `webhook`: queued in the outbox, so it survives restarts and a receiver that is down for a
 * while. A named target gets the body as its message (signed and shaped by the target, like an
 * MQTT message it subscribed to, with the action's source as topic); a URL gets the body as is.
 * The action succeeds once the delivery is committed; delivery outcomes are the outbox's events.
 */
export function createWebhookAction(deps: WebhookActionDeps): OutboxAction<WebhookAction> {
  const now = deps.now ?? Date.now
  const timeoutMs = deps.timeoutMs ?? 10_000

  const executor: ActionExecutor<WebhookAction> = async (action, ctx) => {
    const data = ctx.data ?? {}
    const { text, json, missing } = bodyOf(action.body, data)
    if (action.target !== undefined) {
      const target = deps.targets.get(action.target)
      if (!target) throw new Error(`no webhook target named ${action.target}`)
      if (!target.enabled) throw new Error(`webhook target ${action.target} is disabled`)
      const message: QueuedMessage = {
        topic: ctx.source,
        payload: Buffer.from(text, 'utf8').toString('base64'),
        qos: 0,
        retain: false,
        ts: now(),
      }
      const id = await deps.outbox.enqueue({ kind: WEBHOOK_KIND, target: action.target, payload: message })
      return {
        outboxId: id,
        target: action.target,
        bytes: Buffer.byteLength(text),
        ...(missing.length ? { missing } : {}),
      }
    }
    const url = action.url!
    const payload: UrlDelivery = {
      body: text,
      contentType: json ? 'application/json' : 'text/plain; charset=utf-8',
    }
    const id = await deps.outbox.enqueue({ kind: ACTION_WEBHOOK_KIND, target: url, payload })
    return {
      outboxId: id,
      url: new URL(url).origin,
      bytes: Buffer.byteLength(text),
      ...(missing.length ? { missing } : {}),
    }
  }

  const handler: DeliveryHandler = {
    deliver(entry, signal) {
      const p = entry.payload as UrlDelivery
      if (typeof p?.body !== 'string')
        return Promise.resolve(Outcome.badRequest('stored delivery has no body'))
      return deps.client.post(
        {
          url: entry.target,
          headers: {
            'content-type': p.contentType,
            'user-agent': `Hearth/${VERSION}`,
            // Stable across retries, so a receiver can drop duplicates.
            'idempotency-key': entry.key,
          },
          body: p.body,
          timeoutMs,
        },
        signal,
      )
    },
  }
  return { executor, handler }
}

// No body: the action's context as JSON. A string: a template (JSON when it parses as JSON).
function bodyOf(
  body: unknown,
  data: Record<string, unknown>,
): { text: string; json: boolean; missing: string[] } {
  if (body === undefined) return { text: JSON.stringify(data), json: true, missing: [] }
  if (typeof body !== 'string') return { text: asText(body), json: true, missing: [] }
  const { text, missing } = render(body, data)
  let json = false
  try {
    JSON.parse(text)
    json = true
  } catch {
    json = false
  }
  return { text, json, missing }
}
