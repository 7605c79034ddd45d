import type { Database } from 'bun:sqlite'
import type { Bus } from '../bus/bus.ts'
import { Errors, HubError } from '../errors.ts'
import type { Logger } from '../log.ts'
import { bodyText } from '../util/utf8.ts'
import { type BodyKind, bodyKind, type DeliveryBody, parseBody } from './body.ts'
import { type HookMessage, mapDelivery } from './mapping.ts'
import type { HookRegistry } from './registry.ts'
import type { HookDefinition } from './schema.ts'
import {
  forgetDeliveryId,
  getDelivery,
  type HookDelivery,
  insertDelivery,
  type PublishedRecord,
  rememberDeliveryId,
} from './store.ts'
import { DEFAULT_TOKEN_HEADER, deliveryId, verifyDelivery } from './verify.ts'

/** A request to `/hooks/:name`, as raw as it came. */
interface IncomingDelivery {
  name: string
  headers: Headers
  query: URLSearchParams
  body: Uint8Array
}

/** What `/hooks/:name` answers on success: source system (e)'s `{"status":"ok"}`. */
type HookReply = { status: 'ok' } | { challenge: string }

export interface HookReceiverOptions {
  db: Database
  registry: HookRegistry
  /** Publishes through the broker in-process; resolves once the broker accepted the message. */
  publish(message: HookMessage): Promise<void>
  bus: Bus
  log: Logger
  /** Bytes of each body kept in the capture. */
  captureBytes: number
  now?: () => number
}

export interface HookReceiver {
  /** Verifies, maps and publishes one delivery; throws a HubError the route answers with. */
  receive(req: IncomingDelivery): Promise<HookReply>
  /** Publishes a captured delivery again with the hook's current mapping; returns the new capture. */
  replay(name: string, id: number): Promise<HookDelivery>
}

// Never kept in a capture: credentials of the hook or of the caller.
const ALWAYS_REDACTED = new Set(['authorization', 'cookie', 'proxy-authorization'])

export function createHookReceiver(opts: HookReceiverOptions): HookReceiver {
  const log = opts.log.child('hooks')
  const now = opts.now ?? Date.now

  const capture = (
    hook: HookDefinition,
    req: Pick<IncomingDelivery, 'headers' | 'query' | 'body'>,
    result: {
      verification: string
      status: number
      code?: number
      deliveryId?: string
      published?: HookMessage
    },
    replayOf?: number,
  ): number => {
    const redacted = new Set(ALWAYS_REDACTED)
    if (hook.preset === 'token') redacted.add((hook.header ?? DEFAULT_TOKEN_HEADER).toLowerCase())
    const headers = Object.fromEntries(
      [...req.headers].map(([k, v]) => [k, redacted.has(k.toLowerCase()) ? '[redacted]' : v]),
    )
    const query = Object.fromEntries(
      [...req.query].map(([k, v]) => [k, hook.tokenParam === k ? '[redacted]' : v]),
    )
    return insertDelivery(opts.db, {
      hook: hook.name,
      ts: now(),
      deliveryId: result.deliveryId ?? null,
      contentType: req.headers.get('content-type'),
      headers,
      query,
      body: req.body.subarray(0, opts.captureBytes),
      bodySize: req.body.length,
      verification: result.verification,
      status: result.status,
      code: result.code ?? null,
      published: result.published ? publishedRecord(result.published) : null,
      replayOf: replayOf ?? null,
    })
  }

  const publish = async (hook: HookDefinition, message: HookMessage) => {
    try {
      await opts.publish(message)
    } catch (err) {
      log.warn('publish failed', { hook: hook.name, topic: message.topic, err })
      throw Errors.unavailable('the broker did not accept the message')
    }
  }

  const reject = (hook: HookDefinition | undefined, name: string, err: HubError, reason: string) => {
    opts.bus.emit('hook.rejected', { hook: name, code: err.code, reason }, { subject: name })
    log.debug('delivery rejected', { hook: hook?.name ?? name, code: err.code, reason })
    return err
  }

  return {
    async receive(req) {
      const hook = opts.registry.get(req.name)
      if (!hook) throw reject(undefined, req.name, Errors.notFound('hook'), 'unknown hook')
      let verification = 'not checked'
      let id: string | undefined
      let remembered = false
      try {
        const kind = kindOf(req.headers.get('content-type'))
        const checked = verifyDelivery(hook, req, now())
        if (!checked.ok) {
          verification = checked.reason
          throw checked.reason === 'stale timestamp' ? Errors.staleTimestamp() : Errors.badSignature()
        }
        verification = `ok (${checked.method})`
        const body = parseBody(kind, req.body, req.headers.get('content-type') ?? '')
        id = deliveryId(hook, req.headers, body.value, checked) ?? undefined
        if (id !== undefined) {
          if (!rememberDeliveryId(opts.db, hook.name, id, now())) throw Errors.replayedDelivery()
          remembered = true
        }
        const challenge = slackChallenge(hook, body)
        if (challenge !== undefined) {
          capture(hook, req, { verification, status: 200, ...(id ? { deliveryId: id } : {}) })
          return { challenge }
        }
        const message = mapDelivery(hook, { body, query: req.query, headers: req.headers, ts: now() })
        await publish(hook, message)
        capture(hook, req, {
          verification,
          status: 200,
          published: message,
          ...(id ? { deliveryId: id } : {}),
        })
        opts.bus.emit(
          'hook.received',
          { hook: hook.name, topic: message.topic, bytes: message.payload.length, deliveryId: id ?? null },
          { subject: hook.name },
        )
        // The parsed body, for rules with a hook trigger; transient, so bodies never fill the event log.
        opts.bus.emit('hook.body', { hook: hook.name, body: body.value }, { subject: hook.name })
        return { status: 'ok' }
      } catch (err) {
        // A delivery that was not published may come again with the same id.
        if (remembered && id !== undefined) forgetDeliveryId(opts.db, hook.name, id)
        const e = err instanceof HubError ? err : Errors.internal()
        if (!(err instanceof HubError)) log.error('delivery failed', { hook: hook.name, err })
        capture(hook, req, {
          verification,
          status: e.status,
          code: e.code,
          ...(id ? { deliveryId: id } : {}),
        })
        throw reject(hook, hook.name, e, e.message)
      }
    },

    async replay(name, id) {
      const hook = opts.registry.get(name)
      if (!hook) throw Errors.notFound('hook')
      const original = getDelivery(opts.db, name, id)
      if (!original) throw Errors.notFound('delivery')
      if (!original.verification.startsWith('ok') && original.verification !== 'replay')
        throw Errors.conflict('only verified deliveries can be replayed')
      if (original.body.length < original.bodySize)
        throw Errors.conflict('the captured body was truncated; it cannot be replayed')
      const headers = new Headers(original.headers)
      const kind = kindOf(original.contentType)
      const body = parseBody(kind, original.body, original.contentType ?? '')
      const query = new URLSearchParams(original.query)
      const message = mapDelivery(hook, { body, query, headers, ts: now() })
      await publish(hook, message)
      const newId = capture(
        hook,
        { headers, query, body: original.body },
        { verification: 'replay', status: 200, published: message },
        original.id,
      )
      opts.bus.emit(
        'hook.received',
        {
          hook: hook.name,
          topic: message.topic,
          bytes: message.payload.length,
          deliveryId: null,
          replayOf: id,
        },
        { subject: hook.name },
      )
      return getDelivery(opts.db, name, newId)!
    },
  }
}

/** Accepted content types; a body without one is text (or JSON, when it is). */
function kindOf(contentType: string | null): BodyKind {
  const kind = bodyKind(contentType)
  if (kind) return kind
  if (!contentType) return 'text'
  throw Errors.unsupportedType(contentType)
}

// Slack checks a new Events API URL by sending a challenge that must be echoed.
function slackChallenge(hook: HookDefinition, body: DeliveryBody): string | undefined {
  if (hook.preset !== 'slack' || !body.value || typeof body.value !== 'object') return undefined
  const v = body.value as Record<string, unknown>
  return v.type === 'url_verification' && typeof v.challenge === 'string' ? v.challenge : undefined
}

function publishedRecord(m: HookMessage): PublishedRecord {
  const text = bodyText(m.payload)
  return text !== undefined
    ? { topic: m.topic, payload: text, qos: m.qos, retain: m.retain }
    : {
        topic: m.topic,
        payload: m.payload.toString('base64'),
        encoding: 'base64',
        qos: m.qos,
        retain: m.retain,
      }
}
