import type { IClientOptions } from 'mqtt'
import type { ConsoleFrame, HubEvent, Reply } from '../../src/protocol.ts'
import { createSession } from '../../src/store/sessions.ts'
import { createToken, type TokenScope } from '../../src/store/tokens.ts'
import { findUser } from '../../src/store/users.ts'
import { addDevice, type Client, connect, login } from '../broker/mqtt-fixture.ts'
import type { TestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'

// biome-ignore lint/suspicious/noExplicitAny: response bodies of many shapes, which the tests assert on with toEqual
type AnyJson = any

/** A REST client for the hub's `/api/v1` with a fresh token of `scope`. */
export function api(t: TestHub, scope: TokenScope = 'write') {
  const { secret } = createToken(t.hub.db, { name: `test-${scope}-${crypto.randomUUID()}`, scope })
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${t.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return {
      status: res.status,
      body: (text ? JSON.parse(text) : undefined) as AnyJson,
    }
  }
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body?: unknown) => call('POST', path, body ?? {}),
    patch: (path: string, body: unknown) => call('PATCH', path, body),
    delete: (path: string) => call('DELETE', path),
  }
}

/** A device registered in the hub and connected over MQTT with its own credentials, collecting messages. */
export interface TestDevice extends AsyncDisposable {
  id: string
  client: Client
  /** Every message received, in order. */
  messages: Array<{ topic: string; payload: string }>
  /** Inbox envelopes received, parsed. */
  inbox(): Array<{ messageId: string; kind: string; message: unknown; groupId?: string }>
}

export async function device(
  t: TestHub,
  id: string,
  opts: { subscribe?: string[]; mqtt?: IClientOptions } = {},
): Promise<TestDevice> {
  const creds = await addDevice(t.hub.db, id)
  return connectDevice(t, creds, opts)
}

export async function connectDevice(
  t: TestHub,
  creds: { id: string; username: string; password: string },
  opts: { subscribe?: string[]; mqtt?: IClientOptions } = {},
): Promise<TestDevice> {
  const messages: TestDevice['messages'] = []
  // Listening before CONNACK: a resumed session's messages may come in the same read as it.
  const client = await connect(
    t.mqttUrl,
    { ...login(creds), clientId: `${creds.id}-client`, ...opts.mqtt },
    (c) => c.on('message', (topic, payload) => messages.push({ topic, payload: payload.toString() })),
  )
  const subs = opts.subscribe ?? [`devices/${creds.id}/inbox`]
  if (subs.length) await client.subscribeAsync(subs, { qos: 1 })
  return {
    id: creds.id,
    client,
    messages,
    inbox: () =>
      messages.filter((m) => m.topic === `devices/${creds.id}/inbox`).map((m) => JSON.parse(m.payload)),
    [Symbol.asyncDispose]: () => client[Symbol.asyncDispose](),
  }
}

/** A browser-like console on `/ws` with an admin (or `role`) session cookie, collecting frames. */
export async function openConsole(t: TestHub, username = 'admin') {
  const user = findUser(t.hub.db, username)
  if (!user) throw new Error(`no user ${username}`)
  const cookie = `hearth_session=${createSession(t.hub.db, user.id, 60_000).token}`
  const frames: ConsoleFrame[] = []
  const ws = new WebSocket(`ws://127.0.0.1:${t.httpPort}/ws`, { headers: { cookie } } as unknown as string[])
  ws.addEventListener('message', (e) => frames.push(JSON.parse(String(e.data))))
  await waitFor(() => frames.some((f) => f.type === 'snapshot'), { what: 'the console snapshot' })
  let next = 1
  return {
    ws,
    frames,
    /** Sends `{id, action, body}` and resolves with the reply frame of that id. */
    async request(action: string, body?: unknown): Promise<Reply> {
      const id = next++
      ws.send(JSON.stringify({ id, action, body }))
      const reply = await waitFor(() => frames.find((f) => f.type === 'reply' && f.id === id), {
        what: `the reply to ${action}`,
      })
      const { type: _, ...rest } = reply as { type: 'reply' } & Reply
      return rest as Reply
    },
    /** Events of `type` received so far. */
    events<K extends HubEvent['type']>(type: K): HubEvent<K>[] {
      return frames
        .filter((f) => f.type === 'event' && f.event.type === type)
        .map((f) => (f as unknown as { event: HubEvent<K> }).event)
    },
    [Symbol.dispose]: () => ws.close(),
  }
}

/** The QoS the hub granted for `filter` (128 = refused; mqtt.js rejects those). */
export async function granted(client: Client, filter: string): Promise<number> {
  const r = await client
    .subscribeAsync(filter, { qos: 1 })
    .then((g) => g[0]?.qos)
    .catch((e: { packet?: { granted?: number[] } }) => e.packet?.granted?.[0])
  if (r === undefined) throw new Error(`no SUBACK for ${filter}`)
  return r
}
