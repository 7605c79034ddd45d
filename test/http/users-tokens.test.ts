import { describe, expect, it } from 'bun:test'
import { queryEvents } from '../../src/store/events.ts'
import { createApiFixture, json } from './fixture.ts'

const codeOf = async (res: Response) => ((await res.json()) as { code: number }).code

describe('users API', () => {
  it('adds a user with a generated password shown once, who can then log in', async () => {
    await using f = await createApiFixture()
    const admin = f.bearer('admin')
    const res = await f.request('/api/v1/users', json({ username: 'mina' }, { headers: admin }))
    expect(res.status).toBe(201)
    const body = (await res.json()) as { user: { username: string; role: string }; password: string }
    expect(body.user).toMatchObject({ username: 'mina', role: 'viewer' })
    expect(body.password.length).toBeGreaterThanOrEqual(20)
    expect((await f.login('mina', body.password)).csrfToken).toBeString()
    const got = await f.request('/api/v1/users/mina', { headers: admin })
    expect(await got.json()).not.toHaveProperty('password')
  })

  it('refuses a duplicate username with 40901', async () => {
    await using f = await createApiFixture()
    const res = await f.request(
      '/api/v1/users',
      json({ username: 'admin', password: 'long-enough' }, { headers: f.bearer('admin') }),
    )
    expect(res.status).toBe(409)
    expect(await codeOf(res)).toBe(40901)
  })

  it('lists users and answers 40401 for an unknown one', async () => {
    await using f = await createApiFixture()
    const admin = f.bearer('admin')
    const list = (await (await f.request('/api/v1/users', { headers: admin })).json()) as {
      items: { username: string }[]
    }
    expect(list.items.map((u) => u.username)).toEqual(['admin'])
    expect(await codeOf(await f.request('/api/v1/users/nobody', { headers: admin }))).toBe(40401)
  })

  it('changes a password and ends that user’s sessions', async () => {
    await using f = await createApiFixture()
    const admin = f.bearer('admin')
    await f.request(
      '/api/v1/users',
      json({ username: 'mina', password: 'first-password' }, { headers: admin }),
    )
    const { cookie } = await f.login('mina', 'first-password')
    const res = await f.request(
      '/api/v1/users/mina',
      json({ password: 'second-password' }, { method: 'PATCH', headers: admin }),
    )
    expect(res.status).toBe(200)
    expect((await f.request('/api/v1/auth/me', { headers: { cookie } })).status).toBe(401)
    expect((await f.login('mina', 'second-password')).csrfToken).toBeString()
  })

  it('never removes or demotes the last admin', async () => {
    await using f = await createApiFixture()
    const admin = f.bearer('admin')
    expect(await codeOf(await f.request('/api/v1/users/admin', { method: 'DELETE', headers: admin }))).toBe(
      40901,
    )
    const demote = await f.request(
      '/api/v1/users/admin',
      json({ role: 'viewer' }, { method: 'PATCH', headers: admin }),
    )
    expect(await codeOf(demote)).toBe(40901)
  })

  it('removes a user, their sessions with them, and records it', async () => {
    await using f = await createApiFixture()
    const admin = f.bearer('admin')
    await f.request(
      '/api/v1/users',
      json({ username: 'mina', password: 'first-password' }, { headers: admin }),
    )
    const { cookie } = await f.login('mina', 'first-password')
    expect((await f.request('/api/v1/users/mina', { method: 'DELETE', headers: admin })).status).toBe(204)
    expect((await f.request('/api/v1/auth/me', { headers: { cookie } })).status).toBe(401)
    expect(queryEvents(f.db, { types: ['user.created', 'user.removed'] }).items.map((e) => e.type)).toEqual([
      'user.removed',
      'user.created',
    ])
  })
})

describe('tokens API', () => {
  it('creates a token whose secret is shown once and stored only as a hash', async () => {
    await using f = await createApiFixture()
    const { cookie, csrfToken } = await f.login()
    const res = await f.request(
      '/api/v1/tokens',
      json({ name: 'prometheus', scope: 'read' }, { headers: { cookie, 'x-csrf-token': csrfToken } }),
    )
    expect(res.status).toBe(201)
    const { token, secret } = (await res.json()) as { token: { id: string }; secret: string }
    expect(secret).toMatch(/^hth_[\w-]{43}$/)
    expect(token).toMatchObject({ name: 'prometheus', scope: 'read', createdBy: 'admin', lastUsedAt: null })
    const stored = JSON.stringify(f.db.query('SELECT * FROM api_tokens').all())
    expect(stored).not.toContain(secret)
    const listed = await (await f.request('/api/v1/tokens', { headers: { cookie } })).text()
    expect(listed).not.toContain(secret)
    expect(listed).toContain(token.id)
    const me = await f.request('/api/v1/auth/me', { headers: { authorization: `Bearer ${secret}` } })
    expect(await me.json()).toMatchObject({ principal: { kind: 'token', id: token.id, scope: 'read' } })
  })

  it('revokes a token so it no longer authenticates', async () => {
    await using f = await createApiFixture()
    const admin = f.bearer('admin')
    const created = await f.request(
      '/api/v1/tokens',
      json({ name: 'ci', scope: 'write' }, { headers: admin }),
    )
    const { token, secret } = (await created.json()) as { token: { id: string }; secret: string }
    const del = await f.request(`/api/v1/tokens/${token.id}`, { method: 'DELETE', headers: admin })
    expect(del.status).toBe(204)
    const res = await f.request('/api/v1/events', { headers: { authorization: `Bearer ${secret}` } })
    expect(await codeOf(res)).toBe(40101)
    expect(
      await codeOf(await f.request(`/api/v1/tokens/${token.id}`, { method: 'DELETE', headers: admin })),
    ).toBe(40401)
  })

  it('refuses an unknown scope with 40002', async () => {
    await using f = await createApiFixture()
    const res = await f.request(
      '/api/v1/tokens',
      json({ name: 'x', scope: 'root' }, { headers: f.bearer('admin') }),
    )
    expect(await codeOf(res)).toBe(40002)
  })
})
