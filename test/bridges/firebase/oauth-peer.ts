/**
 * Google's OAuth2 token endpoint for service accounts (RFC 7523 JWT bearer grant): checks the
 * assertion's RS256 signature against the account's public key and its claims, and hands out
 * an access token.
 */
export interface OAuthPeer extends AsyncDisposable {
  /** A service-account key file (JSON text) whose token_uri is this peer. */
  serviceAccount: string
  /** The token it hands out. */
  accessToken: string
  /** Claims of every assertion it accepted. */
  grants: Array<Record<string, unknown>>
  /** Assertions it refused, with why. */
  refused: string[]
  stop(): Promise<void>
}

export async function startOAuthPeer(projectId = 'demo-hearth'): Promise<OAuthPeer> {
  const keys = (await crypto.subtle.generateKey(
    {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64')
  const pem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`
  const accessToken = `ya29.test-${crypto.randomUUID()}`
  const grants: Array<Record<string, unknown>> = []
  const refused: string[] = []
  const clientEmail = `hearth@${projectId}.iam.gserviceaccount.com`

  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const url = new URL(req.url)
      if (req.method !== 'POST' || url.pathname !== '/token')
        return new Response('not found', { status: 404 })
      const form = new URLSearchParams(await req.text())
      const refuse = (why: string) => {
        refused.push(why)
        return Response.json({ error: 'invalid_grant', error_description: why }, { status: 400 })
      }
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
        return refuse('grant_type')
      const [h, c, s] = (form.get('assertion') ?? '').split('.')
      if (!h || !c || !s) return refuse('not a JWT')
      const ok = await crypto.subtle.verify(
        'RSASSA-PKCS1-v1_5',
        keys.publicKey,
        Buffer.from(s, 'base64url'),
        new TextEncoder().encode(`${h}.${c}`),
      )
      if (!ok) return refuse('bad signature')
      const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>
      const claims = JSON.parse(Buffer.from(c, 'base64url').toString()) as Record<string, unknown>
      if (header.alg !== 'RS256') return refuse('alg')
      if (claims.iss !== clientEmail) return refuse('iss')
      if (claims.aud !== `${url.origin}/token`) return refuse('aud')
      if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number' || claims.exp - claims.iat > 3600)
        return refuse('exp')
      grants.push(claims)
      return Response.json({ access_token: accessToken, expires_in: 3599, token_type: 'Bearer' })
    },
  })
  const tokenUri = `http://127.0.0.1:${server.port}/token`
  const stop = async () => {
    await server.stop(true)
  }
  return {
    serviceAccount: JSON.stringify({
      type: 'service_account',
      project_id: projectId,
      private_key_id: 'test',
      private_key: pem,
      client_email: clientEmail,
      client_id: '1',
      token_uri: tokenUri,
    }),
    accessToken,
    grants,
    refused,
    stop,
    [Symbol.asyncDispose]: stop,
  }
}
