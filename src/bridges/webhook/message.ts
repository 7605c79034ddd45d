import { createHmac } from 'node:crypto'
import { render } from '../../actions/hook-template.ts'
import { bodyText } from '../../util/utf8.ts'
import { VERSION } from '../../version.ts'
import type { WebhookTarget } from './schema.ts'

/** An MQTT message as the outbox keeps it for a webhook target. */
export interface QueuedMessage {
  topic: string
  /** The payload bytes, base64. */
  payload: string
  qos: number
  retain: boolean
  /** When the broker routed it, ms since the epoch. */
  ts: number
}

/** The JSON envelope posted when a target has no template. */
interface WebhookEnvelope {
  topic: string
  message: string
  encoding?: 'base64'
  qos: number
  retain: boolean
  ts: number
}

const SIGNATURE_HEADER = 'X-Hearth-Signature'

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, the scheme Stripe made familiar. */
export function signature(secret: string, unixSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.`).update(body).digest('hex')
  return `t=${unixSeconds},v1=${mac}`
}

export function envelope(m: QueuedMessage): WebhookEnvelope {
  const bytes = Buffer.from(m.payload, 'base64')
  const text = bodyText(bytes)
  return text !== undefined
    ? { topic: m.topic, message: text, qos: m.qos, retain: m.retain, ts: m.ts }
    : { topic: m.topic, message: m.payload, encoding: 'base64', qos: m.qos, retain: m.retain, ts: m.ts }
}

/** The request body: the envelope as JSON, or the target's template rendered. */
export function requestBody(target: WebhookTarget, m: QueuedMessage, key: string): string {
  const env = envelope(m)
  if (target.template === undefined) return JSON.stringify(env)
  let json: unknown
  try {
    json = env.encoding ? undefined : JSON.parse(env.message)
  } catch {
    json = undefined
  }
  const context = {
    topic: m.topic,
    levels: m.topic.split('/'),
    message: env.message,
    json,
    qos: m.qos,
    retain: m.retain,
    ts: m.ts,
    key,
  }
  return render(target.template, context).text
}

/** Every header of one attempt; the signature's timestamp is the attempt's, the key is the delivery's. */
export function requestHeaders(
  target: WebhookTarget,
  body: string,
  key: string,
  id: number,
  nowMs: number,
): Record<string, string> {
  const headers: Record<string, string> = {
    'User-Agent': `Hearth/${VERSION}`,
    'Content-Type': target.contentType,
    ...target.headers,
    'Idempotency-Key': key,
    'X-Hearth-Delivery': String(id),
  }
  if (target.secret) headers[SIGNATURE_HEADER] = signature(target.secret, Math.floor(nowMs / 1000), body)
  return headers
}
