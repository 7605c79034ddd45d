import { describe, expect, it } from 'bun:test'
import { createLoginThrottle } from '../../src/http/auth/login-limiter.ts'
import { queryEvents } from '../../src/store/events.ts'
import { createToken, getToken } from '../../src/store/tokens.ts'
import { createUser } from '../../src/store/users.ts'
import { ADMIN_PASSWORD, createApiFixture, json } from './fixture.ts'

const clock = (start = 1_700_000_000_000) => {
  let t = start
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms
    },
  }
}

describe('login and sessions', () => {
  it('sets an HttpOnly SameSite=Strict session cookie and returns the user and a CSRF token', async () => {
    await using f = await createApiFixture()
    const res = await f.request('/api/v1/auth/login', json({ username: 'admin', password: ADMIN_PASSWORD }))
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({ user: { username: 'admin', role: 'admin' }, csrfToken: expect.any(String) })
    const cookie = res.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/^hearth_session=[\w-]{20,};/)
    expect(cookie).toContain('HttpOnly')
    expect(cookie).toContain('SameSite=Strict')
    expect(cookie).toContain('Path=/')
    expect(cookie).not.toContain('Secure')
  })

  it('marks the cookie Secure when the hub serves HTTPS', async () => {
    await using f = await createApiFixture({ secureCookie: true })
    expect((await f.login()).setCookie).toContain('Secure')
  })

  it('stores only a hash of the session token', async () => {
    await using f = await createApiFixture()
    const { cookie } = await f.login()
    const token = cookie.split('=')[1] ?? ''
    const rows = f.db.query('SELECT token_hash FROM sessions').all() as { token_hash: string }[]
    expect(rows).toHaveLength(1)
    expect(rows[0]?.token_hash).not.toContain(token)
    expect(rows[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/)
  })

  it('refuses a wrong password with 40104 and records the failure as an event', async () => {
    await using f = await createApiFixture()
    const res = await f.request('/api/v1/auth/login', json({ username: 'admin', password: 'nope-nope' }), {
      ip: { address: '10.0.0.7' },
    })
    expect(res.status).toBe(401)
    expect(((await res.json()) as { code: number }).code).toBe(40104)
    const events = queryEvents(f.db, { types: ['auth.login_failed'] }).items
    expect(events.map((e) => ({ subject: e.subject, detail: e.detail }))).toEqual([
      { subject: 'admin', detail: { username: 'admin', address: '10.0.0.7', reason: 'bad_credentials' } },
    ])
  })

  it('refuses an unknown user exactly like a wrong password', async () => {
    await using f = await createApiFixture()
    const res = await f.request('/api/v1/auth/login', json({ username: 'ghost', password: 'whatever1' }))
    expect(res.status).toBe(401)
    expect(((await res.json()) as { code: number }).code).toBe(40104)
  })

  it('tells who is logged in, and gives the CSRF token back to a reloaded console', async () => {
    await using f = await createApiFixture()
    const { cookie, csrfToken } = await f.login()
    const res = await f.request('/api/v1/auth/me', { headers: { cookie } })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({
      principal: { kind: 'user', id: 'admin', scope: 'admin' },
      user: { username: 'admin', role: 'admin' },
      csrfToken,
    })
  })

  it('ends the session on logout', async () => {
    await using f = await createApiFixture()
    const { cookie, csrfToken } = await f.login()
    const out = await f.request('/api/v1/auth/logout', {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrfToken },
    })
    expect(out.status).toBe(204)
    expect(out.headers.get('set-cookie')).toMatch(/hearth_session=;.*Max-Age=0/)
    const me = await f.request('/api/v1/auth/me', { headers: { cookie } })
    expect(me.status).toBe(401)
    expect(((await me.json()) as { code: number }).code).toBe(40101)
  })

  it('lets a session expire after http.sessionTtl', async () => {
    const c = clock()
    await using f = await createApiFixture({ now: c.now })
    const { cookie } = await f.login()
    c.advance(3_600_000 - 1)
    expect((await f.request('/api/v1/auth/me', { headers: { cookie } })).status).toBe(200)
    c.advance(1)
    expect((await f.request('/api/v1/auth/me', { headers: { cookie } })).status).toBe(401)
  })

  it('answers 40101 without any credentials', async () => {
    await using f = await createApiFixture()
    const res = await f.request('/api/v1/events')
    expect(res.status).toBe(401)
    expect(((await res.json()) as { code: number }).code).toBe(40101)
  })
})

describe('CSRF protection', () => {
  it('refuses a cookie-authenticated change without the X-CSRF-Token header', async () => {
    await using f = await createApiFixture()
    const { cookie } = await f.login()
    const res = await f.request('/api/v1/tokens', json({ name: 'x', scope: 'read' }, { headers: { cookie } }))
    expect(res.status).toBe(403)
    expect(((await res.json()) as { code: number }).code).toBe(40302)
  })

  it('refuses a CSRF token of another session', async () => {
    await using f = await createApiFixture()
    const mine = await f.login()
    const other = await f.login()
    const res = await f.request(
      '/api/v1/tokens',
      json(
        { name: 'x', scope: 'read' },
        { headers: { cookie: mine.cookie, 'x-csrf-token': other.csrfToken } },
      ),
    )
    expect(((await res.json()) as { code: number }).code).toBe(40302)
  })

  it('accepts a cookie-authenticated change with the session’s CSRF token', async () => {
    await using f = await createApiFixture()
    const { cookie, csrfToken } = await f.login()
    const res = await f.request(
      '/api/v1/tokens',
      json({ name: 'x', scope: 'read' }, { headers: { cookie, 'x-csrf-token': csrfToken } }),
    )
    expect(res.status).toBe(201)
  })

  it('needs no CSRF token for reads or for bearer-authenticated changes', async () => {
    await using f = await createApiFixture()
    const { cookie } = await f.login()
    expect((await f.request('/api/v1/tokens', { headers: { cookie } })).status).toBe(200)
    const res = await f.request(
      '/api/v1/tokens',
      json({ name: 'y', scope: 'read' }, { headers: f.bearer('admin') }),
    )
    expect(res.status).toBe(201)
  })
})

describe('login back-off', () => {
  const fail = (f: Awaited<ReturnType<typeof createApiFixture>>, username: string, address = '10.0.0.1') =>
    f.request('/api/v1/auth/login', json({ username, password: 'wrong-password' }), { ip: { address } })
  const loginFrom = (f: Awaited<ReturnType<typeof createApiFixture>>, address: string) =>
    f.request('/api/v1/auth/login', json({ username: 'admin', password: ADMIN_PASSWORD }), {
      ip: { address },
    })

  it('answers 429 with Retry-After once a user has failed too often from one address, then lets them try after the wait', async () => {
    const c = clock()
    await using f = await createApiFixture({
      now: c.now,
      throttle: createLoginThrottle({ now: c.now, perUserAddress: { freeAttempts: 3 } }),
    })
    for (let i = 0; i < 3; i++) expect((await fail(f, 'admin')).status).toBe(401)
    const blocked = await loginFrom(f, '10.0.0.1')
    expect(blocked.status).toBe(429)
    expect(blocked.headers.get('retry-after')).toBe('1')
    expect(((await blocked.json()) as { code: number }).code).toBe(42901)
    expect(queryEvents(f.db, { types: ['auth.login_failed'] }).items[0]?.detail).toMatchObject({
      reason: 'throttled',
    })
    c.advance(1000)
    expect((await loginFrom(f, '10.0.0.1')).status).toBe(200)
  })

  it('lets the owner in from another address while failures from one address are throttled', async () => {
    const c = clock()
    await using f = await createApiFixture({ now: c.now })
    for (let i = 0; i < 30; i++) await fail(f, 'admin', '203.0.113.9')
    // The guessing address waits, even with the right password …
    expect((await loginFrom(f, '203.0.113.9')).status).toBe(429)
    // … the owner, at home, is not held up by it.
    expect((await loginFrom(f, '192.168.1.20')).status).toBe(200)
  })

  it('doubles the wait with every further failure, up to 15 minutes', async () => {
    const c = clock()
    await using f = await createApiFixture({
      now: c.now,
      throttle: createLoginThrottle({ now: c.now, perUserAddress: { freeAttempts: 1 } }),
    })
    const waits: number[] = []
    for (let i = 0; i < 13; i++) {
      expect((await fail(f, 'admin')).status).toBe(401)
      const res = await fail(f, 'admin')
      waits.push(Number(res.headers.get('retry-after')))
      c.advance(Number(res.headers.get('retry-after')) * 1000)
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900])
  })

  it('limits one address across many usernames', async () => {
    const c = clock()
    await using f = await createApiFixture({
      now: c.now,
      throttle: createLoginThrottle({ now: c.now, perAddress: { freeAttempts: 3 } }),
    })
    for (const name of ['a', 'b', 'c']) expect((await fail(f, name, '192.0.2.1')).status).toBe(401)
    expect((await fail(f, 'd', '192.0.2.1')).status).toBe(429)
    expect((await fail(f, 'd', '192.0.2.2')).status).toBe(401)
  })

  it('records every lockout as an event, with its scope and wait', async () => {
    const c = clock()
    await using f = await createApiFixture({
      now: c.now,
      throttle: createLoginThrottle({
        now: c.now,
        perUserAddress: { freeAttempts: 2 },
        perAddress: { freeAttempts: 3 },
      }),
    })
    await fail(f, 'admin', '198.51.100.4')
    expect(queryEvents(f.db, { types: ['auth.lockout'] }).items).toEqual([])
    await fail(f, 'admin', '198.51.100.4')
    c.advance(1000)
    await fail(f, 'admin', '198.51.100.4')
    const lockouts = queryEvents(f.db, { types: ['auth.lockout'] }).items.map((e) => e.detail)
    expect(lockouts.reverse()).toEqual([
      { username: 'admin', address: '198.51.100.4', scope: 'user+address', failures: 2, retryAfter: 1 },
      { username: 'admin', address: '198.51.100.4', scope: 'user+address', failures: 3, retryAfter: 2 },
      { username: 'admin', address: '198.51.100.4', scope: 'address', failures: 3, retryAfter: 1 },
    ])
  })
})

describe('bearer tokens', () => {
  it('authenticate with Authorization: Bearer and carry their scope', async () => {
    await using f = await createApiFixture()
    const res = await f.request('/api/v1/auth/me', { headers: f.bearer('write') })
    expect(await res.json()).toMatchObject({ principal: { kind: 'token', scope: 'write' } })
  })

  it('refuse a wrong or malformed token with 40101 even when a session cookie is also sent', async () => {
    await using f = await createApiFixture()
    const { cookie } = await f.login()
    for (const authorization of ['Bearer hth_not-a-token', 'Basic YTpi', 'Bearer']) {
      const res = await f.request('/api/v1/auth/me', { headers: { authorization, cookie } })
      expect(((await res.json()) as { code: number }).code).toBe(40101)
    }
  })

  it('refuse a scope that is too small with 40301', async () => {
    await using f = await createApiFixture()
    const read = f.bearer('read')
    expect((await f.request('/api/v1/events', { headers: read })).status).toBe(200)
    const res = await f.request('/api/v1/publish', json({ topic: 'a', payload: 'b' }, { headers: read }))
    expect(res.status).toBe(403)
    expect(((await res.json()) as { code: number }).code).toBe(40301)
    const users = await f.request('/api/v1/users', { headers: f.bearer('write') })
    expect(((await users.json()) as { code: number }).code).toBe(40301)
  })

  it('record their last use at most once a minute', async () => {
    const c = clock()
    await using f = await createApiFixture({ now: c.now })
    const { token, secret } = createToken(f.db, { name: 'prom', scope: 'read' }, c.now())
    const headers = { authorization: `Bearer ${secret}` }
    await f.request('/api/v1/events', { headers })
    const first = c.now()
    expect(getToken(f.db, token.id)?.lastUsedAt).toBe(first)
    c.advance(59_999)
    await f.request('/api/v1/events', { headers })
    expect(getToken(f.db, token.id)?.lastUsedAt).toBe(first)
    c.advance(1)
    await f.request('/api/v1/events', { headers })
    expect(getToken(f.db, token.id)?.lastUsedAt).toBe(c.now())
  })
})

describe('roles', () => {
  it('give a viewer read scope only', async () => {
    await using f = await createApiFixture()
    await createUser(f.db, 'guest', 'guest-password', 'viewer')
    const { cookie, csrfToken } = await f.login('guest', 'guest-password')
    expect((await f.request('/api/v1/events', { headers: { cookie } })).status).toBe(200)
    const res = await f.request('/api/v1/users', { headers: { cookie } })
    expect(((await res.json()) as { code: number }).code).toBe(40301)
    const pub = await f.request(
      '/api/v1/publish',
      json({ topic: 'a', payload: 'b' }, { headers: { cookie, 'x-csrf-token': csrfToken } }),
    )
    expect(((await pub.json()) as { code: number }).code).toBe(40301)
  })
})

describe('session storage', () => {
  it('drops expired sessions when someone logs in', async () => {
    const c = clock()
    await using f = await createApiFixture({ now: c.now })
    await f.login()
    c.advance(3_600_000)
    await f.login()
    expect(f.db.query('SELECT count(*) AS n FROM sessions').get()).toEqual({ n: 1 })
  })
})

describe('changing one’s own password', () => {
  const change = (
    f: Awaited<ReturnType<typeof createApiFixture>>,
    who: { cookie: string; csrfToken: string },
    body: unknown,
  ) =>
    f.request(
      '/api/v1/auth/password',
      json(body, { headers: { cookie: who.cookie, 'x-csrf-token': who.csrfToken } }),
    )

  it('asks for the current password, then keeps this session and ends the others', async () => {
    await using f = await createApiFixture()
    await createUser(f.db, 'guest', 'guest-password', 'viewer')
    const here = await f.login('guest', 'guest-password')
    const elsewhere = await f.login('guest', 'guest-password')
    const wrong = await change(f, here, { currentPassword: 'not-it-at-all', newPassword: 'new-password-1' })
    expect(wrong.status).toBe(403)
    expect(((await wrong.json()) as { code: number }).code).toBe(40303)
    const short = await change(f, here, { currentPassword: 'guest-password', newPassword: 'short' })
    expect(((await short.json()) as { code: number }).code).toBe(40002)

    const ok = await change(f, here, { currentPassword: 'guest-password', newPassword: 'new-password-1' })
    expect(ok.status).toBe(204)
    expect((await f.request('/api/v1/auth/me', { headers: { cookie: here.cookie } })).status).toBe(200)
    expect((await f.request('/api/v1/auth/me', { headers: { cookie: elsewhere.cookie } })).status).toBe(401)
    await expect(f.login('guest', 'guest-password')).rejects.toThrow('401')
    expect((await f.login('guest', 'new-password-1')).csrfToken).toBeString()
    expect(queryEvents(f.db, { types: ['user.updated'] }).items[0]?.detail).toEqual({
      username: 'guest',
      role: 'viewer',
      passwordChanged: true,
    })
  })

  it('is refused to an API token, which has no password', async () => {
    await using f = await createApiFixture()
    const res = await f.request(
      '/api/v1/auth/password',
      json({ currentPassword: 'x', newPassword: 'new-password-1' }, { headers: f.bearer('admin') }),
    )
    expect(((await res.json()) as { code: number }).code).toBe(40301)
  })
})
