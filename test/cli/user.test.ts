import { describe, expect, it } from 'bun:test'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { queryEvents } from '../../src/store/events.ts'
import { INITIAL_ADMIN_FILE } from '../../src/store/initial-admin.ts'
import { openStore } from '../../src/store/open.ts'
import { createSession, findSession } from '../../src/store/sessions.ts'
import { findUser, verifyUser } from '../../src/store/users.ts'
import { cli } from '../helpers/cli.ts'
import { tempDir } from '../helpers/hub.ts'

async function withStore<T>(
  dir: string,
  fn: (db: ReturnType<typeof openStore>['db']) => T,
): Promise<Awaited<T>> {
  const store = openStore(`${dir}/data`)
  try {
    return await fn(store.db)
  } finally {
    store.db.close()
  }
}

describe('hearth user', () => {
  it('adds a user with the password from stdin, without printing it', async () => {
    using dir = tempDir()
    const res = await cli(['user', 'add', 'mina', '--role', 'admin', '--password-stdin'], {
      cwd: dir.path,
      stdin: 'correct horse battery\n',
    })
    expect(res.code).toBe(0)
    expect(res.out).not.toContain('correct horse')
    await withStore(dir.path, async (db) => {
      expect(findUser(db, 'mina')?.role).toBe('admin')
      expect(await verifyUser(db, 'mina', 'correct horse battery')).toBeDefined()
      expect(queryEvents(db, { types: ['user.created'] }).items[0]?.subject).toBe('mina')
    })
  })

  it('generates a password and shows it once when none is given, as a viewer by default', async () => {
    using dir = tempDir()
    const res = await cli(['user', 'add', 'guest'], { cwd: dir.path })
    expect(res.code).toBe(0)
    const password = res.out.trim().split('\n').at(-1)?.trim() ?? ''
    expect(password.length).toBeGreaterThanOrEqual(20)
    await withStore(dir.path, async (db) => {
      expect(findUser(db, 'guest')?.role).toBe('viewer')
      expect(await verifyUser(db, 'guest', password)).toBeDefined()
    })
  })

  it('refuses a short password from stdin, an unknown role and a duplicate name', async () => {
    using dir = tempDir()
    expect(
      (await cli(['user', 'add', 'a', '--password-stdin'], { cwd: dir.path, stdin: 'short\n' })).code,
    ).toBe(2)
    expect((await cli(['user', 'add', 'a', '--role', 'root'], { cwd: dir.path })).code).toBe(2)
    expect((await cli(['user', 'add', 'a'], { cwd: dir.path })).code).toBe(0)
    const dup = await cli(['user', 'add', 'a'], { cwd: dir.path })
    expect(dup.code).toBe(1)
    expect(dup.err).toContain('already exists')
  })

  it('changes a password and ends the user’s sessions', async () => {
    using dir = tempDir()
    await cli(['user', 'add', 'mina', '--password-stdin'], { cwd: dir.path, stdin: 'first-password' })
    const token = await withStore(
      dir.path,
      (db) => createSession(db, findUser(db, 'mina')?.id ?? 0, 60_000).token,
    )
    const res = await cli(['user', 'passwd', 'mina', '--password-stdin'], {
      cwd: dir.path,
      stdin: 'second-password\n',
    })
    expect(res.code).toBe(0)
    await withStore(dir.path, async (db) => {
      expect(findSession(db, token)).toBeUndefined()
      expect(await verifyUser(db, 'mina', 'first-password')).toBeUndefined()
      expect(await verifyUser(db, 'mina', 'second-password')).toBeDefined()
    })
    expect((await cli(['user', 'passwd', 'nobody'], { cwd: dir.path })).code).toBe(1)
  })

  it('removes the first-start password file once admin has a new password', async () => {
    using dir = tempDir()
    await cli(['user', 'add', 'admin', '--role', 'admin', '--password-stdin'], {
      cwd: dir.path,
      stdin: 'generated-first',
    })
    const file = join(dir.path, 'data', INITIAL_ADMIN_FILE)
    writeFileSync(file, 'generated-first\n', { mode: 0o600 })
    await cli(['user', 'passwd', 'mina'], { cwd: dir.path })
    expect(existsSync(file)).toBe(true)
    const res = await cli(['user', 'passwd', 'admin', '--password-stdin'], {
      cwd: dir.path,
      stdin: 'chosen-by-me\n',
    })
    expect(res.code).toBe(0)
    expect(existsSync(file)).toBe(false)
  })

  it('lists users and removes one, but never the last admin', async () => {
    using dir = tempDir()
    await cli(['user', 'add', 'root', '--role', 'admin'], { cwd: dir.path })
    await cli(['user', 'add', 'guest'], { cwd: dir.path })
    const listed = await cli(['user', 'list', '--json'], { cwd: dir.path })
    expect(
      (JSON.parse(listed.out) as { username: string; role: string }[]).map((u) => [u.username, u.role]),
    ).toEqual([
      ['guest', 'viewer'],
      ['root', 'admin'],
    ])
    expect((await cli(['user', 'list'], { cwd: dir.path })).out).toContain('guest')
    const last = await cli(['user', 'remove', 'root'], { cwd: dir.path })
    expect(last.code).toBe(1)
    expect(last.err).toContain('last admin')
    expect((await cli(['user', 'remove', 'guest'], { cwd: dir.path })).code).toBe(0)
    await withStore(dir.path, (db) => expect(findUser(db, 'guest')).toBeUndefined())
  })
})
