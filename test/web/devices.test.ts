// Devices in a real browser: renaming one, and an id field that accepts what the hub accepts.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { deviceIdSchema, getDevice } from '../../src/devices/registry.ts'
import { addDevice } from '../broker/mqtt-fixture.ts'
import { startTestHub } from '../helpers/hub.ts'
import { type ConsoleBrowser, launchBrowser } from './browser.ts'

let browser: ConsoleBrowser
beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(() => browser.close())

describe('devices', () => {
  it('renames a device from its page; the list shows the new name', async () => {
    await using t = await startTestHub()
    await addDevice(t.hub.db, 'hall-1')
    await using p = await browser.open(t, { hash: '#/devices/hall-1' })
    const { page } = p
    const form = page.getByRole('form', { name: 'Rename hall-1' })
    await form.getByLabel('Name').fill('Hall lamp')
    await form.getByRole('button', { name: 'Rename' }).click()
    await page.getByRole('status').filter({ hasText: 'hall-1 is now named Hall lamp' }).waitFor()
    expect(getDevice(t.hub.db, 'hall-1')?.name).toBe('Hall lamp')
    await page.getByRole('region', { name: 'Status' }).getByText('Hall lamp', { exact: true }).waitFor()

    await p.go('#/devices', 'Devices')
    await page.getByRole('row').filter({ hasText: 'hall-1' }).filter({ hasText: 'Hall lamp' }).waitFor()
    expect(p.errors).toEqual([])
  })

  it('accepts in the id field exactly the ids the hub accepts, and says so in its hint', async () => {
    await using t = await startTestHub()
    await using p = await browser.open(t, { hash: '#/devices' })
    const field = p.page.getByRole('form', { name: 'Add a device' }).getByLabel('Device id')
    const candidates = ['pi-1', 'a_b', 'A9', 'a.b', '-x', '_x', 'x'.repeat(64), 'x'.repeat(65), 'a b', 'ü']
    const verdicts: Array<[string, boolean, boolean]> = []
    for (const id of candidates) {
      await field.fill(id)
      const browserSays = await field.evaluate((el) => (el as HTMLInputElement).checkValidity())
      verdicts.push([id, browserSays, deviceIdSchema.safeParse(id).success])
    }
    expect(verdicts.filter(([, b, hub]) => b !== hub)).toEqual([])
    const hint =
      (await p.page.locator(`#${await field.getAttribute('aria-describedby')}`).textContent()) ?? ''
    expect(hint).toContain('_ and -')
    expect(hint).not.toContain('.')
    expect(p.errors).toEqual([])
  })
})
