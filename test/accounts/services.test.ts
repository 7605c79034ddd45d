import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { createTokenService } from '../../src/accounts/token-service.ts'
import { createUserService } from '../../src/accounts/user-service.ts'
import { createBus } from '../../src/bus/bus.ts'
import { createDevice } from '../../src/devices/registry.ts'
import { HubError } from '../../src/errors.ts'
import { silentLogger } from '../../src/log.ts'
import type { AnyHubEvent } from '../../src/protocol.ts'
import { migrate } from '../../src/store/migrate.ts'
import { createSession, findSession } from '../../src/store/sessions.ts'
import { verifyUser } from '../../src/store/users.ts'

function fixture() {
  const db = new Database(':memory:', { strict: true })
  db.run('PRAGMA foreign_keys = ON')
  migrate(db)
  const bus = createBus(silentLogger())
  const seen: AnyHubEvent[] = []
  bus.onAny('test', (e) => seen.push(e))
  const events = () => seen.map((e): unknown[] => [e.type, e.subject, e.detail])
  return { db, bus, events, [Symbol.dispose]: () => db.close() }
}

/** The catalog code of what `fn` threw. */
async function codeOf(fn: () => unknown): Promise<number | undefined> {
  try {
    await fn()
  } catch (err) {
    if (err instanceof HubError) return err.code
    throw err
  }
  return undefined
}

describe('the user service', () => {
  it('creates, changes and removes users, each change an event, never losing the last admin', async () => {
    using f = fixture()
    const changed: string[] = []
    const users = createUserService({ db: f.db, bus: f.bus, onPasswordChanged: (u) => changed.push(u) })
    const created = await users.create({ username: 'root', role: 'admin' })
    expect(created.password?.length).toBeGreaterThanOrEqual(20)
    const mina = (await users.create({ username: 'mina', password: 'first-password', role: 'viewer' })).user
      .id
    expect(await codeOf(() => users.create({ username: 'mina', role: 'viewer' }))).toBe(40901)
    expect(await codeOf(() => users.update('root', { role: 'viewer' }))).toBe(40901)
    expect(await codeOf(() => users.remove('root'))).toBe(40901)

    const kept = createSession(f.db, mina, 60_000)
    const ended = createSession(f.db, mina, 60_000)
    const update = await users.update('mina', { password: 'second-password', keepSession: kept.token })
    expect(update?.sessionsEnded).toBe(1)
    expect([findSession(f.db, kept.token)?.userId, findSession(f.db, ended.token)]).toEqual([mina, undefined])
    expect(await verifyUser(f.db, 'mina', 'second-password')).toBeDefined()
    expect(changed).toEqual(['mina'])
    expect((await users.update('mina', { role: 'admin' }))?.user.role).toBe('admin')
    expect(users.remove('root')?.username).toBe('root')
    expect([await users.update('ghost', { role: 'admin' }), users.remove('ghost')]).toEqual([
      undefined,
      undefined,
    ])

    expect(f.events()).toEqual([
      ['user.created', 'root', { username: 'root', role: 'admin' }],
      ['user.created', 'mina', { username: 'mina', role: 'viewer' }],
      ['user.updated', 'mina', { username: 'mina', role: 'viewer', passwordChanged: true }],
      ['user.updated', 'mina', { username: 'mina', role: 'admin', passwordChanged: false }],
      ['user.removed', 'root', { username: 'root' }],
    ])
  })
})

describe('the token service', () => {
  it('creates and revokes tokens, each an event without the secret, and refuses an unknown device', async () => {
    using f = fixture()
    const tokens = createTokenService({ db: f.db, bus: f.bus })
    expect(
      await codeOf(() => tokens.create({ name: 'x', scope: 'write', createdBy: 'cli', device: 'd1' })),
    ).toBe(40401)
    await createDevice(f.db, { id: 'd1' })
    const { token, secret } = tokens.create({
      name: 'sensor',
      scope: 'write',
      createdBy: 'cli',
      device: 'd1',
    })
    expect(token.device).toBe('d1')
    expect([tokens.revoke(token.id), tokens.revoke(token.id)]).toEqual([true, false])
    expect(f.events()).toEqual([
      ['token.created', token.id, { id: token.id, name: 'sensor', scope: 'write', createdBy: 'cli' }],
      ['token.revoked', token.id, { id: token.id }],
    ])
    expect(JSON.stringify(f.events())).not.toContain(secret)
  })
})
