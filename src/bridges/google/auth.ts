import { z } from 'zod'
import { parseRetryAfter } from '../../outbox/backoff.ts'

/** The fields of a Google service-account key file that the token exchange reads. */
interface GoogleServiceAccount {
  client_email: string
  private_key: string
  /** From the key file, so a test's key can name a local token endpoint. */
  token_uri: string
  private_key_id?: string | undefined
}

/** A token exchange that failed, translated [STYLE 9]: try again later, or the key itself is refused. */
export class AccessTokenError extends Error {
  readonly retryAfterMs: number | undefined
  /** The token endpoint's HTTP status, when it answered. */
  readonly status: number | undefined

  constructor(
    message: string,
    readonly outcome: 'retry' | 'bad-request',
    info: { status?: number; retryAfterMs?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, info.cause === undefined ? undefined : { cause: info.cause })
    this.name = 'AccessTokenError'
    this.status = info.status
    this.retryAfterMs = info.retryAfterMs
  }
}

/** OAuth2 access tokens of a service account, fetched when needed and cached until shortly before expiry. */
export interface AccessTokens {
  /** A cached or fresh token; `signal` aborts the exchange it starts (callers arriving meanwhile share it). */
  get(signal?: AbortSignal): Promise<string>
  /** Drops the cached token (the API answered 401 with it). */
  invalidate(): void
}

interface AccessTokenOptions {
  account: GoogleServiceAccount
  scopes: readonly string[]
  /** Deadline of one exchange. */
  timeoutMs: number
  /** How long before expiry a token is renewed; a minute unless given. */
  renewBeforeMs?: number
  fetch?: typeof fetch
  now?: () => number
}

const LIFETIME_S = 3600
const tokenAnswer = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive().default(LIFETIME_S),
})

/**
 * The service-account flow [RFC 7523]: a JWT signed with the account's RSA key (RS256, WebCrypto)
 * exchanged at the account's `token_uri` for an access token. One exchange at a time.
 */
export function createAccessTokens(opts: AccessTokenOptions): AccessTokens {
  const doFetch = opts.fetch ?? fetch
  const now = opts.now ?? Date.now
  // Renewed early so a token never expires between the check and the request.
  const renewBeforeMs = opts.renewBeforeMs ?? 60_000
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
      throw new AccessTokenError('the service account private key cannot be read', 'bad-request', {
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
    const deadline = AbortSignal.timeout(opts.timeoutMs)
    let res: Response
    try {
      res = await doFetch(opts.account.token_uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
        signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      })
    } catch (err) {
      const why = deadline.aborted
        ? `no answer within ${opts.timeoutMs} ms`
        : ((err as Error)?.message ?? String(err))
      throw new AccessTokenError(`token exchange failed: ${why}`, 'retry', { cause: err })
    }
    const text = await res.text().catch(() => '')
    if (!res.ok) {
      const reason = `token exchange answered HTTP ${res.status}: ${text.slice(0, 200)}`
      // 400 invalid_grant / 401 invalid_client: the key is revoked or wrong; retrying cannot help.
      if (res.status === 429 || res.status >= 500)
        throw new AccessTokenError(reason, 'retry', {
          status: res.status,
          retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), now()),
        })
      throw new AccessTokenError(reason, 'bad-request', { status: res.status })
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    const body = tokenAnswer.safeParse(json)
    if (!body.success)
      throw new AccessTokenError(`token exchange answered no access token: ${text.slice(0, 200)}`, 'retry', {
        status: res.status,
      })
    cached = { token: body.data.access_token, until: now() + body.data.expires_in * 1000 - renewBeforeMs }
    return cached.token
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
function importPrivateKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64')
  return crypto.subtle.importKey('pkcs8', der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, [
    'sign',
  ])
}

/** A compact JWS [RFC 7515] with header `{"alg":"RS256","typ":"JWT", …header}`. */
async function signJwt(
  key: CryptoKey,
  header: Record<string, string>,
  claims: Record<string, unknown>,
): Promise<string> {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const input = `${part({ alg: 'RS256', typ: 'JWT', ...header })}.${part(claims)}`
  const sig = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key, new TextEncoder().encode(input))
  return `${input}.${Buffer.from(sig).toString('base64url')}`
}
