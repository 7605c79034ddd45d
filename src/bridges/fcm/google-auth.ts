import { parseRetryAfter } from '../../outbox/backoff.ts'
import type { ServiceAccount } from './service-account.ts'

/** The OAuth scope of FCM HTTP v1 sends. */
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging'

/** A token exchange that failed, translated [STYLE 9]: try again later, or the key itself is refused. */
export class AccessTokenError extends Error {
  constructor(
    message: string,
    readonly outcome: 'retry' | 'bad-request',
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'AccessTokenError'
  }
}

/** OAuth2 access tokens of a service account, fetched when needed and cached until shortly before expiry. */
export interface AccessTokens {
  get(signal?: AbortSignal): Promise<string>
  /** Drops the cached token (the API answered 401 with it). */
  invalidate(): void
}

export interface AccessTokenOptions {
  account: ServiceAccount
  scopes: readonly string[]
  fetch?: typeof fetch
  now?: () => number
  timeoutMs?: number
}

// Renew a minute early so a token never expires between the check and the request.
const MARGIN_MS = 60_000
const LIFETIME_S = 3600

/**
 * The service-account flow [RFC 7523]: a JWT signed with the account's RSA key (RS256, WebCrypto)
 * exchanged at the account's `token_uri` for an access token. One exchange at a time.
 */
export function createAccessTokens(opts: AccessTokenOptions): AccessTokens {
  const doFetch = opts.fetch ?? fetch
  const now = opts.now ?? Date.now
  let cached: { token: string; until: number } | undefined
  let pending: Promise<string> | undefined
  let key: Promise<CryptoKey> | undefined

  const exchange = async (signal?: AbortSignal): Promise<string> => {
    key ??= importPrivateKey(opts.account.private_key)
    let signingKey: CryptoKey
    try {
      signingKey = await key
    } catch (err) {
      key = undefined
      throw new AccessTokenError('the service account private key cannot be read', 'bad-request', undefined, {
        cause: err,
      })
    }
    const issued = Math.floor(now() / 1000)
    const kid = opts.account.private_key_id
    const assertion = await signJwt(signingKey, kid ? { kid } : {}, {
      iss: opts.account.client_email,
      scope: opts.scopes.join(' '),
      aud: opts.account.token_uri,
      iat: issued,
      exp: issued + LIFETIME_S,
    })
    let res: Response
    try {
      res = await doFetch(opts.account.token_uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
        signal: AbortSignal.any([...(signal ? [signal] : []), AbortSignal.timeout(opts.timeoutMs ?? 10_000)]),
      })
    } catch (err) {
      throw new AccessTokenError(
        `token exchange failed: ${(err as Error)?.message ?? err}`,
        'retry',
        undefined,
        {
          cause: err,
        },
      )
    }
    const text = await res.text().catch(() => '')
    if (!res.ok) {
      const reason = `token exchange answered HTTP ${res.status}: ${text.slice(0, 200)}`
      // 400 invalid_grant / 401 invalid_client: the key is revoked or wrong; retrying cannot help.
      if (res.status === 429 || res.status >= 500)
        throw new AccessTokenError(reason, 'retry', parseRetryAfter(res.headers.get('retry-after'), now()))
      throw new AccessTokenError(reason, 'bad-request')
    }
    let body: { access_token?: unknown; expires_in?: unknown }
    try {
      body = JSON.parse(text)
    } catch (err) {
      throw new AccessTokenError('token exchange answered something that is not JSON', 'retry', undefined, {
        cause: err,
      })
    }
    if (typeof body.access_token !== 'string')
      throw new AccessTokenError('token exchange answered no access_token', 'retry')
    const lifetimeS = typeof body.expires_in === 'number' ? body.expires_in : LIFETIME_S
    cached = { token: body.access_token, until: now() + lifetimeS * 1000 - MARGIN_MS }
    return body.access_token
  }

  return {
    get(signal) {
      if (cached && now() < cached.until) return Promise.resolve(cached.token)
      pending ??= exchange(signal).finally(() => {
        pending = undefined
      })
      return pending
    },
    invalidate() {
      cached = undefined
    },
  }
}

/** A PKCS#8 PEM RSA key ("BEGIN PRIVATE KEY", as in Google's key files) for RS256 signing. */
export function importPrivateKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64')
  return crypto.subtle.importKey('pkcs8', der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, [
    'sign',
  ])
}

/** A compact JWS [RFC 7515] with header `{"alg":"RS256","typ":"JWT", …header}`. */
export async function signJwt(
  key: CryptoKey,
  header: Record<string, string>,
  claims: Record<string, unknown>,
): Promise<string> {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const input = `${part({ alg: 'RS256', typ: 'JWT', ...header })}.${part(claims)}`
  const sig = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key, new TextEncoder().encode(input))
  return `${input}.${Buffer.from(sig).toString('base64url')}`
}
