import { z } from 'zod'
import { FirebaseFailure, withDeadline } from './http.ts'

/** The fields of a Google service-account key file this bridge uses. */
export const serviceAccountSchema = z.looseObject({
  project_id: z.string().min(1).optional(),
  client_email: z.string().min(1),
  private_key: z.string().includes('PRIVATE KEY'),
  token_uri: z.url().default('https://oauth2.googleapis.com/token'),
})

export type ServiceAccount = z.infer<typeof serviceAccountSchema>

/** Scopes for Firestore and the Realtime Database (which also wants the account's e-mail). */
export const FIREBASE_SCOPES = [
  'https://www.googleapis.com/auth/datastore',
  'https://www.googleapis.com/auth/firebase.database',
  'https://www.googleapis.com/auth/userinfo.email',
]

/** Where a request's credential comes from. */
export interface TokenSource {
  /** A bearer token valid for at least a minute more. */
  token(signal?: AbortSignal): Promise<string>
}

/** A fixed token: the Firestore emulator's `owner`, or none at all (an open test peer). */
export function staticToken(token: string): TokenSource {
  return { token: () => Promise.resolve(token) }
}

export interface ServiceAccountTokenOptions {
  account: ServiceAccount
  scopes?: string[]
  timeoutMs: number
  fetch?: typeof fetch
  now?: () => number
}

// Google's tokens live an hour; one is renewed this long before it runs out.
const RENEW_BEFORE_MS = 5 * 60_000
const ASSERTION_TTL_S = 3600

/**
 * OAuth2 access tokens for a service account: a JWT signed RS256 with its key (WebCrypto), traded
 * at its `token_uri` (RFC 7523), cached until shortly before expiry. Concurrent callers share one
 * exchange.
 */
export function serviceAccountTokens(opts: ServiceAccountTokenOptions): TokenSource {
  const doFetch = opts.fetch ?? fetch
  const now = opts.now ?? Date.now
  const scopes = (opts.scopes ?? FIREBASE_SCOPES).join(' ')
  let key: Promise<CryptoKey> | undefined
  let cached: { token: string; expiresAt: number } | undefined
  let pending: Promise<string> | undefined

  const exchange = async (): Promise<string> => {
    key ??= importKey(opts.account.private_key)
    const iat = Math.floor(now() / 1000)
    const assertion = await signJwt(await key, {
      iss: opts.account.client_email,
      scope: scopes,
      aud: opts.account.token_uri,
      iat,
      exp: iat + ASSERTION_TTL_S,
    })
    const body = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion })
    const res = await withDeadline(
      doFetch,
      opts.account.token_uri,
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body },
      opts.timeoutMs,
    )
    const parsed = z
      .object({ access_token: z.string().min(1), expires_in: z.coerce.number().positive().default(3600) })
      .safeParse(res.body)
    if (!res.ok || !parsed.success) {
      // A refused key is not fixed by retrying soon, but deliveries must wait for the fix, not die.
      throw new FirebaseFailure('retry', `token exchange failed: HTTP ${res.status} ${res.snippet}`, {
        status: res.status,
      })
    }
    cached = { token: parsed.data.access_token, expiresAt: now() + parsed.data.expires_in * 1000 }
    return cached.token
  }

  return {
    token() {
      if (cached && cached.expiresAt - RENEW_BEFORE_MS > now()) return Promise.resolve(cached.token)
      // Shared by every caller, so no one caller's abort cuts it short; the deadline bounds it.
      pending ??= exchange().finally(() => {
        pending = undefined
      })
      return pending
    },
  }
}

async function importKey(pem: string): Promise<CryptoKey> {
  const b64 = pem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '')
  return crypto.subtle.importKey(
    'pkcs8',
    Buffer.from(b64, 'base64'),
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    false,
    ['sign'],
  )
}

async function signJwt(key: CryptoKey, claims: Record<string, unknown>): Promise<string> {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const input = `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}`
  const sig = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key, new TextEncoder().encode(input))
  return `${input}.${Buffer.from(sig).toString('base64url')}`
}
