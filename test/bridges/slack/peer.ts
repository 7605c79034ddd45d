import type { Server } from 'bun'

export interface SlackRequest {
  path: string
  /** Incoming-webhook URL path, or the channel of a chat.postMessage. */
  destination: string
  body: { text: string; blocks: Array<Record<string, unknown>>; channel?: string }
  authorization: string | null
  at: number
}

type Behaviour = (req: SlackRequest, nth: number) => Response

/** Slack's documented answers (api.slack.com/messaging/webhooks#handling_errors, api.slack.com/methods/chat.postMessage). */
export const SlackAnswers = {
  webhookOk: () => new Response('ok', { headers: { 'content-type': 'text/html' } }),
  rateLimited: (retryAfterS: number) =>
    new Response('rate_limited', { status: 429, headers: { 'retry-after': String(retryAfterS) } }),
  noService: () => new Response('no_service', { status: 404 }),
  channelIsArchived: () => new Response('channel_is_archived', { status: 410 }),
  invalidToken: () => new Response('invalid_token', { status: 403 }),
  invalidPayload: () => new Response('invalid_payload', { status: 400 }),
  rollupError: () => new Response('rollup_error', { status: 500 }),
  apiError: (error: string) => Response.json({ ok: false, error }),
  apiRateLimited: (retryAfterS: number) =>
    Response.json(
      { ok: false, error: 'ratelimited' },
      { status: 429, headers: { 'retry-after': String(retryAfterS) } },
    ),
}

/** A local Slack: incoming webhooks under /services/… and the Web API's chat.postMessage under /api. */
export function startSlackPeer(botToken = 'xoxb-test-token') {
  const requests: SlackRequest[] = []
  const behaviours = new Map<string, Behaviour>()
  const counts = new Map<string, number>()
  const server: Server<undefined> = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname
      const body = (await req.json()) as SlackRequest['body']
      const api = path === '/api/chat.postMessage'
      const r: SlackRequest = {
        path,
        destination: api ? String(body.channel) : path,
        body,
        authorization: req.headers.get('authorization'),
        at: Date.now(),
      }
      requests.push(r)
      const nth = (counts.get(r.destination) ?? 0) + 1
      counts.set(r.destination, nth)
      if (api && r.authorization !== `Bearer ${botToken}`) return SlackAnswers.apiError('invalid_auth')
      const behave = behaviours.get(r.destination)
      if (behave) return behave(r, nth)
      return api
        ? Response.json({
            ok: true,
            channel: body.channel,
            ts: `1700000000.${String(nth).padStart(6, '0')}`,
            message: body,
          })
        : SlackAnswers.webhookOk()
    },
  })
  const base = `http://127.0.0.1:${server.port}`
  return {
    apiUrl: `${base}/api`,
    botToken,
    webhook: (name: string) => `${base}/services/T0001/B0001/${name}`,
    requests,
    /** Requests to the incoming webhook made by `webhook(name)`. */
    toWebhook: (name: string) => requests.filter((r) => r.destination === `/services/T0001/B0001/${name}`),
    /** chat.postMessage requests to a channel. */
    toChannel: (channel: string) =>
      requests.filter((r) => r.path === '/api/chat.postMessage' && r.destination === channel),
    behaveWebhook(name: string, fn: Behaviour) {
      behaviours.set(`/services/T0001/B0001/${name}`, fn)
    },
    behaveChannel(channel: string, fn: Behaviour) {
      behaviours.set(channel, fn)
    },
    [Symbol.asyncDispose]: () => server.stop(true),
  }
}
