// The MQTT explorer in a real browser: the retained tree, publishing, and watching a filter over
// MQTT-over-WebSocket with the bundled client.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { startTestHub } from '../helpers/hub.ts'
import { type ConsoleBrowser, launchBrowser } from './browser.ts'

let browser: ConsoleBrowser
beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(() => browser.close())

describe('MQTT explorer', () => {
  it('shows retained topics as a tree, publishes, and watches a filter live', async () => {
    await using t = await startTestHub()
    await t.hub.broker.publish({ topic: 'home/lamp/state', payload: '{"on":false}', retain: true })
    await using p = await browser.open(t, { hash: '#/mqtt' })
    const { page } = p
    await page.getByRole('heading', { name: 'MQTT explorer', level: 1 }).waitFor()
    await page.getByRole('button', { name: 'Show retained message of home/lamp/state' }).click()
    await page.getByRole('region', { name: 'Message' }).getByText('"on": false').waitFor()

    // Watching: the console makes its own watcher device and connects over /mqtt.
    const watch = page.getByRole('form', { name: 'Subscribe to a filter and watch' })
    await watch.getByLabel('Topic filter').fill('home/#')
    await watch.getByRole('button', { name: 'Watch' }).click()
    await page.getByRole('status').filter({ hasText: 'Watching home/# as console-admin.' }).waitFor()
    // The retained message arrives first, flagged as such.
    await page.locator('tr[data-topic="home/lamp/state"]').filter({ hasText: 'yes' }).waitFor()

    const publish = page.getByRole('form', { name: 'Publish a message' })
    await publish.getByLabel('Topic').fill('home/lamp/set')
    await publish.getByLabel('Payload (text)').fill('{"on":true}')
    await publish.getByRole('button', { name: 'Publish' }).click()
    await page.locator('tr[data-topic="home/lamp/set"]').filter({ hasText: '{"on":true}' }).waitFor()
    await p.shot('explorer', { doc: true })

    await watch.getByRole('button', { name: 'Stop watching' }).click()
    await page.getByRole('status').filter({ hasText: 'Not watching.' }).waitFor()
    expect(p.errors).toEqual([])
  })
})
