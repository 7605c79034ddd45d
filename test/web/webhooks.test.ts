// Webhooks in a real browser: an inbound hook's captured delivery, replayed from the console.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { collect } from '../broker/mqtt-fixture.ts'
import { startTestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'
import { type ConsoleBrowser, launchBrowser } from './browser.ts'

let browser: ConsoleBrowser
beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(() => browser.close())

describe('webhooks', () => {
  it('lists a hook with its URL and replays one of its deliveries', async () => {
    await using t = await startTestHub({
      hooks: [{ name: 'door', preset: 'none', topic: 'home/door', qos: 1 }],
    })
    const res = await fetch(`${t.url}/hooks/door`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ open: true }),
    })
    expect(res.status).toBe(200)
    const received = collect(t, 'hook.received')

    await using p = await browser.open(t, { hash: '#/webhooks' })
    const { page } = p
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor()
    await page
      .getByRole('row')
      .filter({ hasText: `${t.url}/hooks/door` })
      .waitFor()
    const deliveries = page.getByRole('region', { name: 'Recent deliveries of door' })
    await deliveries.getByRole('button', { name: 'View delivery 1' }).click()
    await deliveries.getByText('"body": "{\\"open\\":true}"').waitFor()

    await deliveries.getByRole('button', { name: 'Replay delivery 1' }).click()
    // The replay is a delivery of its own, published again through the broker.
    const replay = deliveries
      .getByRole('row')
      .filter({ hasText: '#1' })
      .filter({ has: page.getByRole('button', { name: 'Replay delivery 2' }) })
    await replay.waitFor()
    await waitFor(() => received.find((e) => e.detail.replayOf === 1), { what: 'the replayed hook.received' })
    expect(received.find((e) => e.detail.replayOf === 1)?.detail).toMatchObject({
      hook: 'door',
      topic: 'home/door',
    })
    await p.shot('webhooks', { doc: true })
    expect(p.errors).toEqual([])
  })
})
