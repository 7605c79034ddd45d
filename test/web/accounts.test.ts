// Accounts in a real browser: changing one's own password, an admin setting another's, and a
// console that rebuilds itself when its user's role changes while it is open.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { INITIAL_ADMIN_FILE } from '../../src/store/initial-admin.ts'
import { createSession } from '../../src/store/sessions.ts'
import { createUser, findUser } from '../../src/store/users.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { type ConsoleBrowser, launchBrowser } from './browser.ts'

let browser: ConsoleBrowser
beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(() => browser.close())

/** The status of a login through the API. */
const loginStatus = async (t: TestHub, username: string, password: string) =>
  (
    await fetch(`${t.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    })
  ).status

/** Chromium reports every refused request as a console error; those the test provokes are expected. */
const unexpected = (errors: string[], status: number) =>
  errors.filter((e) => !e.includes(`status of ${status}`))

describe('accounts', () => {
  it('changes the admin’s own password, which removes the first-start password file', async () => {
    await using t = await startTestHub({ admin: { password: undefined } })
    const first = t.hub.initialAdminPassword ?? ''
    const file = join(t.dataDir, INITIAL_ADMIN_FILE)
    expect(existsSync(file)).toBe(true)
    await using p = await browser.open({ url: t.url, adminPassword: first }, { hash: '#/settings' })
    const { page } = p
    const form = page.getByRole('form', { name: 'Change your password' })
    await form.getByLabel('Current password').fill('not-the-password')
    await form.getByLabel('New password').fill('chosen-by-the-owner')
    await form.getByRole('button', { name: 'Change password' }).click()
    await form.getByRole('alert').filter({ hasText: '(40303)' }).waitFor()
    expect(existsSync(file)).toBe(true)

    await form.getByLabel('Current password').fill(first)
    await form.getByRole('button', { name: 'Change password' }).click()
    await page.getByRole('status').filter({ hasText: 'Your password is changed' }).waitFor()
    expect(existsSync(file)).toBe(false)
    expect(await loginStatus(t, 'admin', first)).toBe(401)
    expect(await loginStatus(t, 'admin', 'chosen-by-the-owner')).toBe(200)
    // Still logged in: this session stays, only the others end.
    await page.locator('.live-badge[data-status="open"]').waitFor()
    expect(unexpected(p.errors, 403)).toEqual([])
  })

  it('lets an admin set a viewer’s password, and the viewer change it', async () => {
    await using t = await startTestHub()
    await createUser(t.hub.db, 'guest', 'guest-password-0', 'viewer')
    {
      await using p = await browser.open(t, { hash: '#/settings' })
      const form = p.page.getByRole('form', { name: 'Set a user’s password' })
      await form.getByLabel('User', { exact: true }).selectOption('guest')
      await form.getByLabel('New password').fill('set-by-the-admin')
      await form.getByRole('button', { name: 'Set password' }).click()
      await p.page.getByRole('status').filter({ hasText: 'Password of guest set' }).waitFor()
      expect(p.errors).toEqual([])
    }
    expect(await loginStatus(t, 'guest', 'guest-password-0')).toBe(401)

    await using p = await browser.open(t, { login: false, hash: '#/settings' })
    const { page } = p
    await page.getByLabel('Username').fill('guest')
    await page.getByLabel('Password').fill('set-by-the-admin')
    await page.getByRole('button', { name: 'Log in' }).click()
    const form = page.getByRole('form', { name: 'Change your password' })
    await form.getByLabel('Current password').fill('set-by-the-admin')
    await form.getByLabel('New password').fill('chosen-by-the-guest')
    await form.getByRole('button', { name: 'Change password' }).click()
    await page.getByRole('status').filter({ hasText: 'Your password is changed' }).waitFor()
    expect(await loginStatus(t, 'guest', 'chosen-by-the-guest')).toBe(200)
    // A viewer sees no users list (the users API is for admins) and no error about it.
    expect(await page.getByRole('region', { name: 'Users' }).count()).toBe(0)
    expect(unexpected(p.errors, 401)).toEqual([])
  })

  it('rebuilds an open console read-only when its user is demoted to viewer', async () => {
    await using t = await startTestHub()
    await createUser(t.hub.db, 'bob', 'bob-password-1', 'admin')
    await using p = await browser.open(t, { login: false, hash: '#/devices' })
    const { page } = p
    await page.getByLabel('Username').fill('bob')
    await page.getByLabel('Password').fill('bob-password-1')
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('form', { name: 'Add a device' }).waitFor()

    const admin = createSession(t.hub.db, findUser(t.hub.db, 'admin')!.id, 60_000)
    const res = await fetch(`${t.url}/api/v1/users/bob`, {
      method: 'PATCH',
      headers: {
        cookie: `hearth_session=${admin.token}`,
        'x-csrf-token': admin.csrfToken,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ role: 'viewer' }),
    })
    expect(res.status).toBe(200)
    // No reload by hand: the live channel closes (4403) and the console builds itself again.
    await page.getByRole('form', { name: 'Add a device' }).waitFor({ state: 'detached' })
    await page.getByRole('heading', { name: 'Devices', level: 1 }).waitFor()
    await page.locator('.live-badge[data-status="open"]').waitFor()
    expect(unexpected(p.errors, 401)).toEqual([])
  })
})
