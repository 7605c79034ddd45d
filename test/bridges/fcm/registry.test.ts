import { afterAll, describe, expect, it } from 'bun:test'
import { createDevice } from '../../../src/devices/registry.ts'
import { waitFor } from '../../helpers/wait.ts'
import { startFcmPeer } from './peer.ts'
import { basic, pushHub } from './support.ts'

const T0 = Date.UTC(2025, 5, 2, 3, 0, 0)

describe('push token registry: POST, list, delete /api/v1/push/tokens', () => {
  const peer = startFcmPeer()
  afterAll(() => peer[Symbol.asyncDispose]())

  it('registers a token with an API token, and a second registration refreshes it', async () => {
    let now = T0
    await using t = await pushHub(peer, {}, {}, { now: () => now })
    const registered = t.collect('push.token_registered')
    const first = await t.register({
      token: 'tok-phone-1',
      platform: 'ios',
      user: 'kim',
      labels: ['beta', 'beta', 'kr'],
    })
    expect(first.status).toBe(201)
    expect(first.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{16}$/),
      token: 'tok-phone-1',
      platform: 'ios',
      device: null,
      user: 'kim',
      labels: ['beta', 'kr'],
      createdAt: T0,
      updatedAt: T0,
      ageMs: 0,
      lastSuccessAt: null,
      lastFailureAt: null,
      lastError: null,
      failures: 0,
    })
    now += 60_000
    const again = await t.register({ token: 'tok-phone-1', platform: 'android', labels: [] })
    expect(again.status).toBe(200)
    expect(again.body).toMatchObject({
      platform: 'android',
      user: null,
      labels: [],
      createdAt: T0,
      updatedAt: T0 + 60_000,
    })
    expect(registered.map((e) => e.detail.created)).toEqual([true, false])
    expect(registered[0]!.detail).not.toHaveProperty('token')
  })

  it('refuses a body that does not match the schema, and a request without credentials', async () => {
    await using t = await pushHub(peer)
    expect((await t.register({ token: 'tok-xxxxx', platform: 'symbian' })).body).toMatchObject({
      code: 40002,
    })
    expect((await t.register({ token: 'has space', platform: 'ios' })).body).toMatchObject({ code: 40002 })
    const res = await fetch(`${t.url}/api/v1/push/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'tok-anon', platform: 'ios' }),
    })
    expect(res.status).toBe(401)
  })

  it("lets a device register, list and delete its own tokens over HTTP Basic, and nobody else's", async () => {
    await using t = await pushHub(peer)
    const { credentials: phone } = await createDevice(t.hub.db, { id: 'phone-1' })
    const { credentials: other } = await createDevice(t.hub.db, { id: 'phone-2' })
    const own = basic(phone.username, phone.password)
    const mine = await t.register({ token: 'tok-device-own', platform: 'android' }, own)
    expect(mine).toMatchObject({ status: 201, body: { device: 'phone-1' } })
    expect((await t.register({ token: 'tok-xxxxx', platform: 'ios', device: 'phone-2' }, own)).status).toBe(
      403,
    )
    expect(
      (await t.register({ token: 'tok-xxxxx', platform: 'ios' }, basic('phone-1', 'wrong'))).body,
    ).toMatchObject({
      code: 40104,
    })
    await t.register({ token: 'tok-device-other', platform: 'ios', device: 'phone-2' })
    expect((await t.register({ token: 'tok-yyyyy', platform: 'ios', device: 'nope' })).body).toMatchObject({
      code: 40401,
    })

    const list = (await (await fetch(`${t.url}/api/v1/push/tokens`, { headers: own })).json()) as {
      items: Array<{ token: string }>
    }
    expect(list.items.map((i) => i.token)).toEqual(['tok-device-own'])
    const theirs = await t.register({ token: 'tok-device-other', platform: 'ios', device: 'phone-2' })
    const id = theirs.body.id as string
    expect(
      (await fetch(`${t.url}/api/v1/push/tokens/${id}`, { method: 'DELETE', headers: own })).status,
    ).toBe(404)
    expect(
      (
        await fetch(`${t.url}/api/v1/push/tokens/${id}`, {
          method: 'DELETE',
          headers: basic(other.username, other.password),
        })
      ).status,
    ).toBe(204)
    expect((await fetch(`${t.url}/api/v1/push/tokens/${id}`, { headers: t.bearer })).status).toBe(404)
  })

  it('lists tokens oldest first with their age and last success, by label, a page at a time, and deletes by id', async () => {
    let now = T0
    await using t = await pushHub(peer, {}, {}, { now: () => now })
    for (const [i, labels] of [['a'], ['a', 'b'], ['b']].entries()) {
      await t.register({ token: `tok-list-${i}`, platform: 'web', labels })
      now += 1000
    }
    const batches = t.collect('push.batch')
    expect(await t.push({ label: 'b', silent: true })).toMatchObject({ ok: true, detail: { tokens: 2 } })
    await waitFor(() => batches.length === 1)
    const get = async (q: string) =>
      (await (await fetch(`${t.url}/api/v1/push/tokens${q}`, { headers: t.bearer })).json()) as {
        items: Array<Record<string, unknown>>
        nextCursor?: string
      }
    const page1 = await get('?limit=2')
    expect(page1.items.map((i) => i.token)).toEqual(['tok-list-0', 'tok-list-1'])
    expect(page1.items.map((i) => i.ageMs)).toEqual([3000, 2000])
    const page2 = await get(`?limit=2&cursor=${page1.nextCursor}`)
    expect(page2).toEqual({ items: [expect.objectContaining({ token: 'tok-list-2' })] })
    expect((await get('?label=a')).items.map((i) => i.token)).toEqual(['tok-list-0', 'tok-list-1'])
    const labelled = (await get('?label=b')).items
    expect(labelled.map((i) => [i.token, i.lastSuccessAt])).toEqual([
      ['tok-list-1', now],
      ['tok-list-2', now],
    ])
    const removed = t.collect('push.token_removed')
    const id = page1.items[0]!.id as string
    expect(
      (await fetch(`${t.url}/api/v1/push/tokens/${id}`, { method: 'DELETE', headers: t.bearer })).status,
    ).toBe(204)
    expect(removed.map((e) => e.detail)).toEqual([{ id, reason: 'api' }])
    expect((await get('')).items.map((i) => i.token)).toEqual(['tok-list-1', 'tok-list-2'])
  })
})
