import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { HookDefinition } from './schema.ts'

/** Providers allow five minutes of clock skew (Slack and Stripe document 300 s). */
const TIMESTAMP_WINDOW_MS = 5 * 60_000

const DEFAULT_SIGNATURE_HEADER = 'X-Signature'
export const DEFAULT_TOKEN_HEADER = 'X-Hook-Token'

/** What a delivery looks like to a verifier: the raw bytes, never a re-serialised body. */
interface SignedRequest {
  headers: Headers
  query: URLSearchParams
  body: Uint8Array
}

export type Verification =
  | { ok: true; method: string; signature?: string }
  | { ok: false; reason: 'missing signature' | 'bad signature' | 'stale timestamp' }

/** Checks a delivery against its hook's preset. `now` is ms since the epoch. */
export function verifyDelivery(hook: HookDefinition, req: SignedRequest, now: number): Verification {
  const secret = hook.secret ?? ''
  switch (hook.preset) {
    case 'none':
      return { ok: true, method: 'none' }
    case 'github': {
      // https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries
      const given = req.headers.get('x-hub-signature-256')
      if (!given) return { ok: false, reason: 'missing signature' }
      const hex = given.startsWith('sha256=') ? given.slice(7) : ''
      return sameHmac(secret, [req.body], hex, 'hex') ? signed('github', given) : bad()
    }
    case 'slack': {
      // https://api.slack.com/authentication/verifying-requests-from-slack
      const given = req.headers.get('x-slack-signature')
      const ts = req.headers.get('x-slack-request-timestamp')
      if (!given || !ts) return { ok: false, reason: 'missing signature' }
      const hex = given.startsWith('v0=') ? given.slice(3) : ''
      if (!sameHmac(secret, [`v0:${ts}:`, req.body], hex, 'hex')) return bad()
      return fresh(ts, now) ? signed('slack', `${ts}:${given}`) : stale()
    }
    case 'stripe': {
      // https://docs.stripe.com/webhooks#verify-manually: t=…,v1=…[,v1=…]; signed "t.body".
      const header = req.headers.get('stripe-signature')
      if (!header) return { ok: false, reason: 'missing signature' }
      const parts = header.split(',').map((p) => p.trim().split('=', 2) as [string, string?])
      const t = parts.find(([k]) => k === 't')?.[1]
      const v1 = parts.filter(([k, v]) => k === 'v1' && v).map(([, v]) => v!)
      if (!t || v1.length === 0) return { ok: false, reason: 'missing signature' }
      const match = v1.find((sig) => sameHmac(secret, [`${t}.`, req.body], sig, 'hex'))
      if (!match) return bad()
      return fresh(t, now) ? signed('stripe', `${t}:${match}`) : stale()
    }
    case 'hmac-sha256': {
      const given = req.headers.get(hook.header ?? DEFAULT_SIGNATURE_HEADER)
      if (!given) return { ok: false, reason: 'missing signature' }
      const value = given.startsWith('sha256=') ? given.slice(7) : given
      if (!hook.timestampHeader) {
        return sameHmac(secret, [req.body], value, hook.encoding) ? signed('hmac-sha256', given) : bad()
      }
      const ts = req.headers.get(hook.timestampHeader)
      if (!ts) return { ok: false, reason: 'missing signature' }
      if (!sameHmac(secret, [`${ts}.`, req.body], value, hook.encoding)) return bad()
      return fresh(ts, now) ? signed('hmac-sha256', `${ts}:${given}`) : stale()
    }
    case 'token': {
      const fromHeader = hook.header
        ? req.headers.get(hook.header)
        : (req.headers.get(DEFAULT_TOKEN_HEADER) ?? bearer(req.headers.get('authorization')))
      const given = fromHeader ?? (hook.tokenParam ? req.query.get(hook.tokenParam) : null)
      if (!given) return { ok: false, reason: 'missing signature' }
      return sameToken(given, secret) ? { ok: true, method: 'token' } : bad()
    }
  }
}

const bad = (): Verification => ({ ok: false, reason: 'bad signature' })
const stale = (): Verification => ({ ok: false, reason: 'stale timestamp' })
const signed = (method: string, signature: string): Verification => ({ ok: true, method, signature })

function bearer(header: string | null): string | null {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
  return m?.[1] ?? null
}

/** HMAC-SHA256 of the concatenated parts, compared in constant time with the presented value. */
function sameHmac(
  secret: string,
  parts: ReadonlyArray<string | Uint8Array>,
  given: string,
  encoding: 'hex' | 'base64',
): boolean {
  const mac = createHmac('sha256', secret)
  for (const p of parts) mac.update(p)
  const expected = mac.digest()
  const presented = decode(given, encoding)
  return (
    presented !== undefined && presented.length === expected.length && timingSafeEqual(presented, expected)
  )
}

function decode(text: string, encoding: 'hex' | 'base64'): Buffer | undefined {
  const ok = encoding === 'hex' ? /^[0-9a-fA-F]*$/.test(text) : /^[A-Za-z0-9+/_-]*={0,2}$/.test(text)
  return ok && text.length > 0 ? Buffer.from(text, encoding) : undefined
}

/** Compares two tokens in constant time whatever their lengths (both are hashed first). */
function sameToken(given: string, expected: string): boolean {
  if (!expected) return false
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

/** A unix timestamp (seconds; milliseconds accepted) within the window of `now`. */
export function fresh(text: string, now: number): boolean {
  if (!/^\d{1,16}$/.test(text.trim())) return false
  const n = Number(text)
  const ms = n > 1e12 ? n : n * 1000
  return Math.abs(now - ms) <= TIMESTAMP_WINDOW_MS
}

/**
 * The id under which a verified delivery is remembered, to refuse it when it comes again:
 * the provider's delivery or event id, a generic `X-Delivery-Id` / `Idempotency-Key`, or for
 * timestamped signatures the signature itself (it never repeats for a new delivery).
 */
export function deliveryId(
  hook: HookDefinition,
  headers: Headers,
  body: unknown,
  verification: Extract<Verification, { ok: true }>,
): string | undefined {
  const field = (name: string) => {
    const v = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined
    return typeof v === 'string' && v ? v : undefined
  }
  const own =
    hook.preset === 'github'
      ? headers.get('x-github-delivery')
      : hook.preset === 'stripe'
        ? field('id')
        : hook.preset === 'slack'
          ? field('event_id')
          : undefined
  const generic = headers.get('x-delivery-id') ?? headers.get('idempotency-key')
  const timestamped = hook.preset === 'slack' || hook.preset === 'stripe' || Boolean(hook.timestampHeader)
  return own ?? generic ?? (timestamped ? verification.signature : undefined) ?? undefined
}
