// Push in a real browser: tokens registered through the API, a test push sent from the page to a
// local FCM v1 peer, its per-token result, and the token FCM calls UNREGISTERED pruned from the list.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { PushTokenView } from '../../src/protocol.ts'
import { Answers, startFcmPeer } from '../bridges/fcm/peer.ts'
import { pushHub } from '../bridges/fcm/support.ts'
import { waitFor } from '../helpers/wait.ts'
import { type ConsoleBrowser, launchBrowser } from './browser.ts'

let browser: ConsoleBrowser
const fcm = startFcmPeer()
beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser.close()
  await fcm[Symbol.asyncDispose]()
})

describe('push', () => {
  it('lists tokens, sends a test push, shows its result and drops the token FCM says is unregistered', async () => {
    await using t = await pushHub(fcm)
    fcm.behave('phone-gone-0001', () => Answers.unregistered())
    const kept = await t.register({ token: 'phone-kept-0001', platform: 'android' })
    const gone = await t.register({ token: 'phone-gone-0001', platform: 'ios', labels: ['beta'] })
    expect([kept.status, gone.status]).toEqual([201, 201])
    const keptId = kept.body.id as string
    const goneId = gone.body.id as string

    await using p = await browser.open(t, { hash: '#/push' })
    const { page } = p
    await page.getByRole('heading', { name: 'Push', level: 1 }).waitFor()
    const tokens = page.getByRole('region', { name: 'Registered tokens' })
    const row = (id: string) => tokens.getByRole('row').filter({ hasText: id })
    await row(keptId).filter({ hasText: 'android' }).filter({ hasText: 'never sent' }).waitFor()
    await row(goneId).filter({ hasText: 'ios' }).filter({ hasText: 'beta' }).waitFor()

    const form = page.getByRole('form', { name: 'Send a test push' })
    await form.getByLabel('Title').fill('Front door')
    await form.getByLabel('Body').fill('Opened from the console')
    await form.getByRole('button', { name: 'Send test push' }).click()

    // The result: one row per token, then the batch's counts.
    const test = page.getByRole('region', { name: 'Test push' })
    await test.getByText('Done: 1 sent · 1 dead · 0 failed · 0 skipped · 1 pruned').waitFor()
    const results = test.getByRole('table')
    await results.getByRole('row').filter({ hasText: keptId }).filter({ hasText: 'sent' }).waitFor()
    await results.getByRole('row').filter({ hasText: goneId }).filter({ hasText: 'UNREGISTERED' }).waitFor()

    // The unregistered token leaves the list; the other stays with its last result.
    await row(goneId).waitFor({ state: 'detached' })
    await row(keptId).filter({ hasText: 'sent' }).waitFor()
    expect(fcm.to('phone-kept-0001').map((r) => r.body)).toEqual([
      {
        message: {
          token: 'phone-kept-0001',
          notification: { title: 'Front door', body: 'Opened from the console' },
        },
      },
    ])
    expect(fcm.to('phone-kept-0001')[0]!.project).toBe('hearth-test')
    expect(fcm.to('phone-kept-0001')[0]!.authorization).toMatch(/^Bearer ya29\.test-\d+$/)
    expect(fcm.to('phone-gone-0001').length).toBe(1)
    const listed = async () =>
      (
        (await (await fetch(`${t.url}/api/v1/push/tokens`, { headers: t.bearer })).json()) as {
          items: PushTokenView[]
        }
      ).items
    expect((await listed()).map((x) => [x.id, x.lastSuccessAt !== null])).toEqual([[keptId, true]])
    await p.shot('push', { doc: true })

    // Removing the last token by hand.
    page.once('dialog', (dialog) => void dialog.accept())
    await row(keptId)
      .getByRole('button', { name: `Remove token ${keptId}` })
      .click()
    await tokens.getByText('No phones registered yet.').waitFor()
    await waitFor(async () => (await listed()).length === 0, { what: 'the token gone from the API' })
    expect(p.errors).toEqual([])
  })
})
