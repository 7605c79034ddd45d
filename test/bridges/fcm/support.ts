import { actionSchema } from '../../../src/catalog/actions.ts'
import type { EventType, HubEvent } from '../../../src/protocol.ts'
import { createToken } from '../../../src/store/tokens.ts'
import { startTestHub, type TestHub } from '../../helpers/hub.ts'
import type { startFcmPeer } from './peer.ts'

export type FcmPeer = ReturnType<typeof startFcmPeer>

/** A hub whose push bridge talks to `peer`, with quick outbox retries; `push` settings merged in. */
export async function pushHub(
  peer: FcmPeer,
  push: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
  opts: { now?: () => number } = {},
) {
  const account = await peer.account()
  const t = await startTestHub(
    {
      push: { serviceAccount: account.json, baseUrl: peer.url, ...push },
      outbox: { backoffBase: 10, backoffMax: 40, breakerThreshold: 50 },
      ...extra,
    },
    opts,
  )
  const admin = createToken(t.hub.db, { name: 'admin', scope: 'admin' }).secret
  return Object.assign(t, {
    bearer: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    /** Every event of a type from now on. */
    collect<K extends EventType>(type: K): HubEvent<K>[] {
      const seen: HubEvent<K>[] = []
      t.hub.bus.on(`test-${type}-${Math.random()}`, type, (e) => seen.push(e))
      return seen
    },
    async register(body: Record<string, unknown>, headers?: Record<string, string>) {
      const res = await fetch(`${t.url}/api/v1/push/tokens`, {
        method: 'POST',
        headers: headers ?? { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      return { status: res.status, body: (await res.json()) as Record<string, unknown> }
    },
    /** Runs a push action the way a rule or a schedule does. */
    push(action: Record<string, unknown>) {
      return t.hub.actions.run(actionSchema.parse({ type: 'push', ...action }), { source: 'test' })
    },
  }) satisfies TestHub
}

export const basic = (username: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
  'content-type': 'application/json',
})
