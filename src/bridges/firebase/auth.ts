import { z } from 'zod'
import { AccessTokenError, createAccessTokens } from '../google/auth.ts'
import { FirebaseFailure } from './http.ts'

/** The fields of a Google service-account key file this bridge uses. */
export const serviceAccountSchema = z.looseObject({
  project_id: z.string().min(1).optional(),
  client_email: z.string().min(1),
  private_key: z.string().includes('PRIVATE KEY'),
  token_uri: z.url().default('https://oauth2.googleapis.com/token'),
})

export type ServiceAccount = z.infer<typeof serviceAccountSchema>

/** Scopes for Firestore and the Realtime Database (which also wants the account's e-mail). */
const FIREBASE_SCOPES = [
  'https://www.googleapis.com/auth/datastore',
  'https://www.googleapis.com/auth/firebase.database',
  'https://www.googleapis.com/auth/userinfo.email',
]

/** Where a request's credential comes from. */
export interface TokenSource {
  /** A bearer token valid for at least a minute more. */
  token(signal?: AbortSignal): Promise<string>
}

/** A fixed token: the Firestore emulator's `owner`, the legacy RTDB secret, or none at all (an open test peer). */
export function staticToken(token: string): TokenSource {
  return { token: () => Promise.resolve(token) }
}

interface ServiceAccountTokenOptions {
  account: ServiceAccount
  scopes?: string[]
  timeoutMs: number
  fetch?: typeof fetch
  now?: () => number
}

/** The service account's OAuth2 access tokens (`google/auth.ts`), failing as a FirebaseFailure. */
export function serviceAccountTokens(opts: ServiceAccountTokenOptions): TokenSource {
  const tokens = createAccessTokens({
    // Without `private_key_id`: this bridge's assertions have never carried a `kid` header.
    account: {
      client_email: opts.account.client_email,
      private_key: opts.account.private_key,
      token_uri: opts.account.token_uri,
    },
    scopes: opts.scopes ?? FIREBASE_SCOPES,
    timeoutMs: opts.timeoutMs,
    // Google's tokens live an hour; renewing well before the end spares a mirror write a 401.
    renewBeforeMs: 5 * 60_000,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  })
  return {
    async token() {
      try {
        // Shared by every caller, so no one caller's abort cuts it short; the deadline bounds it.
        return await tokens.get()
      } catch (err) {
        if (!(err instanceof AccessTokenError)) throw err
        // A refused key is not fixed by retrying soon, but deliveries must wait for the fix, not die.
        throw new FirebaseFailure('retry', err.message, {
          ...(err.status !== undefined ? { status: err.status } : {}),
          cause: err,
        })
      }
    },
  }
}
