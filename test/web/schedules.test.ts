// Schedules in a real browser: source (b)'s Monday push created in the form, its next runs listed.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { startTestHub } from '../helpers/hub.ts'
import { type ConsoleBrowser, launchBrowser } from './browser.ts'

let browser: ConsoleBrowser
beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(() => browser.close())

describe('schedules', () => {
  it('creates a schedule and shows its next ten runs in its own timezone', async () => {
    await using t = await startTestHub()
    await using p = await browser.open(t, { hash: '#/schedules' })
    const { page } = p
    const form = page.getByRole('form', { name: 'Create a schedule' })
    await form.getByLabel('Schedule id').fill('monday-notice')
    await form.getByLabel('Name').fill('Monday notification')
    await form.getByLabel('Kind').selectOption('cron')
    await form.getByLabel('Cron expression').fill('10 0 * * 1')
    await form.getByLabel('Timezone').fill('Asia/Seoul')
    await form
      .getByLabel('Actions (JSON array)')
      .fill(JSON.stringify([{ type: 'event', message: 'weekly notification' }]))
    await form.getByRole('button', { name: 'Create schedule' }).click()

    // Created, the console opens the schedule: ten upcoming Mondays at 00:10 Seoul time.
    await page.getByRole('heading', { name: 'Schedule monday-notice', level: 1 }).waitFor()
    const next = page.getByRole('region', { name: 'Next ten runs' })
    await next.locator('[data-runs="10"]').waitFor()
    const rows = next.locator('tbody tr')
    expect(await rows.count()).toBe(10)
    const local = await rows.locator('td:nth-child(2)').allInnerTexts()
    for (const at of local) {
      expect(at).toMatch(/T00:10:00\+09:00$/)
      expect(new Date(`${at.slice(0, 10)}T00:00:00Z`).getUTCDay()).toBe(1)
    }
    expect((await page.getByRole('region', { name: 'Summary' }).textContent()) ?? '').toContain(
      'cron 10 0 * * 1',
    )
    await p.shot('schedule', { doc: true })

    // Disabled from the list, it says so; the API agrees.
    await p.go('#/schedules', 'Schedules')
    await page.getByRole('button', { name: 'Disable monday-notice' }).click()
    await page.getByRole('button', { name: 'Enable monday-notice' }).waitFor()
    const view = await (
      await fetch(`${t.url}/api/v1/schedules/monday-notice`, { headers: await cookie(p.page) })
    ).json()
    expect(view.schedule.enabled).toBe(false)
    await p.shot('schedules')
    expect(p.errors).toEqual([])
  })
})

async function cookie(page: import('playwright-core').Page): Promise<Record<string, string>> {
  const cookies = await page.context().cookies()
  return { cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; ') }
}
