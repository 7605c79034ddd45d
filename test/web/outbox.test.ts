// The outbox's dead letters in a real browser: deliveries to a failing webhook receiver go dead,
// one is replayed from the page once the receiver is back, another is discarded.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { OutboxEntryView } from '../../src/protocol.ts'
import { createToken } from '../../src/store/tokens.ts'
import { startReceiver } from '../bridges/webhook/receiver.ts'
import { startTestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'
import { type ConsoleBrowser, launchBrowser } from './browser.ts'

let browser: ConsoleBrowser
const receiver = startReceiver()
beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser.close()
  await receiver[Symbol.asyncDispose]()
})

describe('outbox', () => {
  it('replays a dead letter to a receiver that is back, and discards another', async () => {
    let healthy = false
    receiver.behave('/crm', () =>
      healthy ? new Response('ok') : new Response('maintenance', { status: 500 }),
    )
    // Two attempts a few milliseconds apart, then a dead letter.
    await using t = await startTestHub({
      outbox: { maxAttempts: 2, backoffBase: 10, backoffMax: 20, breakerThreshold: 50 },
      webhooks: [{ name: 'crm', filter: 'crm/#', url: receiver.url('/crm') }],
    })
    const headers = {
      authorization: `Bearer ${createToken(t.hub.db, { name: 'writer', scope: 'write' }).secret}`,
      'content-type': 'application/json',
    }
    for (const lead of ['lead-1', 'lead-2']) {
      const res = await fetch(`${t.url}/api/v1/publish`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ topic: `crm/${lead}`, payload: JSON.stringify({ lead }), qos: 1 }),
      })
      expect(res.status).toBeLessThan(300)
    }
    const deadLetters = async () =>
      (
        (await (await fetch(`${t.url}/api/v1/outbox?state=dead`, { headers })).json()) as {
          items: OutboxEntryView[]
        }
      ).items
    const dead = await waitFor(async () => {
      const items = await deadLetters()
      return items.length === 2 && items
    })
    const topicOf = (x: OutboxEntryView) => (x.payload as { topic: string }).topic
    const [first, second] = [...dead].sort((a, b) => topicOf(a).localeCompare(topicOf(b)))
    expect([topicOf(first!), topicOf(second!)]).toEqual(['crm/lead-1', 'crm/lead-2'])
    expect(first).toMatchObject({
      kind: 'webhook',
      target: 'crm',
      attempts: 2,
      lastError: 'HTTP 500: maintenance',
    })

    await using p = await browser.open(t, { hash: '#/webhooks' })
    const { page } = p
    const outbox = page.getByRole('region', { name: 'Outbox' })
    const replay = (id: number) => outbox.getByRole('button', { name: `Replay outbox entry ${id}` })
    const discard = (id: number) => outbox.getByRole('button', { name: `Discard outbox entry ${id}` })
    await replay(first!.id).waitFor()
    await replay(second!.id).waitFor()
    await outbox
      .getByRole('row')
      .filter({ has: page.getByRole('button', { name: `Replay outbox entry ${first!.id}` }) })
      .filter({ hasText: 'gave up after 2 attempts' })
      .filter({ hasText: 'HTTP 500: maintenance' })
      .waitFor()
    await p.shot('outbox', { doc: true })

    // The receiver is back: the replayed letter reaches it and leaves the dead letters.
    healthy = true
    const before = receiver.at('/crm').length
    await replay(first!.id).click()
    const delivered = await waitFor(() =>
      receiver
        .at('/crm')
        .slice(before)
        .find((r) => JSON.parse(r.body).topic === 'crm/lead-1'),
    )
    expect(JSON.parse(delivered.body)).toMatchObject({ topic: 'crm/lead-1', message: '{"lead":"lead-1"}' })
    await replay(first!.id).waitFor({ state: 'detached' })
    await discard(first!.id).waitFor({ state: 'detached' })

    // The other is discarded after the confirmation, and is gone from the API too.
    page.once('dialog', (dialog) => void dialog.accept())
    await discard(second!.id).click()
    await replay(second!.id).waitFor({ state: 'detached' })
    await outbox.getByText('No dead letters.').waitFor()
    const gone = await fetch(`${t.url}/api/v1/outbox/${second!.id}`, { headers })
    expect(gone.status).toBe(404)
    expect(await gone.json()).toMatchObject({ code: 40401 })
    expect(await deadLetters()).toEqual([])
    expect(receiver.at('/crm').filter((r) => JSON.parse(r.body).topic === 'crm/lead-2').length).toBe(2)
    expect(p.errors).toEqual([])
  })
})
