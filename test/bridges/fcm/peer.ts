import type { Server } from 'bun'
import { simulatedLatency } from '../../helpers/wait.ts'

/** A request the peer got at `messages:send`. */
export interface FcmRequest {
  project: string
  /** The parsed JSON body: `{ message: … }`. */
  body: { message: Record<string, unknown> & { token: string } }
  authorization: string | null
  at: number
}

type Behaviour = (req: FcmRequest, nth: number) => Response | Promise<Response>

/** A test service account: a fresh RSA key, its public half kept to verify the peer's JWTs. */
export interface TestServiceAccount {
  json: string
  publicKey: CryptoKey
  clientEmail: string
}

export async function makeServiceAccount(
  tokenUri: string,
  projectId = 'hearth-test',
): Promise<TestServiceAccount> {
  const pair = (await crypto.subtle.generateKey(
    {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', pair.privateKey)).toString('base64')
  const pem = `-----BEGIN PRIVATE KEY-----\n${der.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`
  const clientEmail = `hearth@${projectId}.iam.gserviceaccount.com`
  const json = JSON.stringify({
    type: 'service_account',
    project_id: projectId,
    private_key_id: 'test-key-1',
    private_key: pem,
    client_email: clientEmail,
    client_id: '1234567890',
    token_uri: tokenUri,
  })
  return { json, publicKey: pair.publicKey, clientEmail }
}

/** FCM HTTP v1 error bodies as documented (firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode). */
export const fcmError = (
  httpStatus: number,
  status: string,
  errorCode: string | undefined,
  message: string,
  extra: unknown[] = [],
  headers: Record<string, string> = {},
) =>
  Response.json(
    {
      error: {
        code: httpStatus,
        message,
        status,
        details: [
          ...(errorCode
            ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }]
            : []),
          ...extra,
        ],
      },
    },
    { status: httpStatus, headers },
  )

export const Answers = {
  unregistered: () => fcmError(404, 'NOT_FOUND', 'UNREGISTERED', 'Requested entity was not found.'),
  invalidToken: () =>
    fcmError(
      400,
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      'The registration token is not a valid FCM registration token',
      [
        {
          '@type': 'type.googleapis.com/google.rpc.BadRequest',
          fieldViolations: [{ field: 'message.token', description: 'Invalid registration token' }],
        },
      ],
    ),
  invalidPayload: () =>
    fcmError(
      400,
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      "Invalid value at 'message.data[0].value' (TYPE_STRING)",
      [
        {
          '@type': 'type.googleapis.com/google.rpc.BadRequest',
          fieldViolations: [{ field: 'message.data[0].value', description: 'Invalid value' }],
        },
      ],
    ),
  quota: (retryAfterS: number) =>
    fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED', 'Quota exceeded for quota metric', [], {
      'retry-after': String(retryAfterS),
    }),
  unavailable: () => fcmError(503, 'UNAVAILABLE', 'UNAVAILABLE', 'The service is currently unavailable.'),
  senderMismatch: () => fcmError(403, 'PERMISSION_DENIED', 'SENDER_ID_MISMATCH', 'SenderId mismatch'),
  unauthenticated: () =>
    Response.json(
      {
        error: {
          code: 401,
          message: 'Request had invalid authentication credentials.',
          status: 'UNAUTHENTICATED',
        },
      },
      { status: 401 },
    ),
}

/**
 * A local FCM: the OAuth token endpoint (checks the JWT's RS256 signature with the account's
 * public key) and `POST /v1/projects/{p}/messages:send` (checks the bearer token). Each token
 * answers by its behaviour, default 200 `{"name": "projects/p/messages/<n>"}`.
 */
export function startFcmPeer() {
  const requests: FcmRequest[] = []
  const exchanges: Array<{ header: Record<string, unknown>; claims: Record<string, unknown> }> = []
  const behaviours = new Map<string, Behaviour>()
  const counts = new Map<string, number>()
  const issued = new Set<string>()
  let account: TestServiceAccount | undefined
  let inFlight = 0
  let maxInFlight = 0
  let tokenAnswer: (() => Response) | undefined
  let latencyMs = 0

  const server: Server<undefined> = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const url = new URL(req.url)
      if (url.pathname === '/token') return token(req)
      const m = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(url.pathname)
      if (!m || req.method !== 'POST') return new Response('not found', { status: 404 })
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      try {
        const authorization = req.headers.get('authorization')
        const body = (await req.json()) as FcmRequest['body']
        const r: FcmRequest = { project: m[1]!, body, authorization, at: Date.now() }
        requests.push(r)
        if (!authorization || !issued.has(authorization.replace(/^Bearer /, '')))
          return Answers.unauthenticated()
        // Latency, as a real FCM has, so concurrent requests overlap and the bound shows.
        if (latencyMs) await simulatedLatency(latencyMs)
        const nth = (counts.get(body.message.token) ?? 0) + 1
        counts.set(body.message.token, nth)
        const behave = behaviours.get(body.message.token)
        if (behave) return await behave(r, nth)
        return Response.json({ name: `projects/${m[1]}/messages/${requests.length}` })
      } finally {
        inFlight--
      }
    },
  })

  async function token(req: Request): Promise<Response> {
    const form = new URLSearchParams(await req.text())
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      return Response.json({ error: 'unsupported_grant_type' }, { status: 400 })
    const [h, c, s] = (form.get('assertion') ?? '').split('.')
    const header = JSON.parse(Buffer.from(h ?? '', 'base64url').toString())
    const claims = JSON.parse(Buffer.from(c ?? '', 'base64url').toString())
    const ok =
      account &&
      (await crypto.subtle.verify(
        'RSASSA-PKCS1-v1_5',
        account.publicKey,
        Buffer.from(s ?? '', 'base64url'),
        new TextEncoder().encode(`${h}.${c}`),
      ))
    if (!ok)
      return Response.json(
        { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' },
        { status: 400 },
      )
    exchanges.push({ header, claims })
    if (tokenAnswer) return tokenAnswer()
    const accessToken = `ya29.test-${exchanges.length}`
    issued.add(accessToken)
    return Response.json({ access_token: accessToken, expires_in: 3599, token_type: 'Bearer' })
  }

  const url = `http://127.0.0.1:${server.port}`
  return {
    url,
    tokenUri: `${url}/token`,
    requests,
    exchanges,
    /** Makes a service account whose JWTs this peer accepts. */
    async account(projectId = 'hearth-test') {
      account = await makeServiceAccount(`${url}/token`, projectId)
      return account
    },
    behave(token: string, fn: Behaviour) {
      behaviours.set(token, fn)
    },
    answerTokenWith(fn: (() => Response) | undefined) {
      tokenAnswer = fn
    },
    /** Forgets every access token issued so far: the next send with one gets 401. */
    revokeAccessTokens() {
      issued.clear()
    },
    get maxInFlight() {
      return maxInFlight
    },
    set latencyMs(ms: number) {
      latencyMs = ms
    },
    /** Requests for one registration token, in order. */
    to: (token: string) => requests.filter((r) => r.body.message.token === token),
    [Symbol.asyncDispose]: () => server.stop(true),
  }
}
