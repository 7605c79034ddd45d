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

describe('interval schedules', () => {
  it('shows an interval as people read it, runs a schedule now, and creates one that runs at start', async () => {
    await using t = await startTestHub({
      schedules: [
        {
          id: 'weather',
          kind: 'interval',
          every: '900s',
          actions: [{ type: 'event', message: 'weather polled' }],
        },
      ],
    })
    await using p = await browser.open(t, { hash: '#/schedules' })
    const { page } = p
    const row = page.getByRole('row').filter({ hasText: 'weather' })
    await row.getByRole('cell', { name: 'every 15 min', exact: true }).waitFor()

    await row.getByRole('button', { name: 'Run weather now' }).click()
    await page.getByRole('status').filter({ hasText: 'Schedule weather is running' }).waitFor()
    await p.go('#/schedules/weather', 'Schedule weather')
    const history = page.getByRole('region', { name: 'History' })
    await history.getByRole('row').filter({ hasText: 'run now' }).filter({ hasText: 'ok' }).waitFor()

    await p.go('#/schedules', 'Schedules')
    const form = page.getByRole('form', { name: 'Create a schedule' })
    await form.getByLabel('Schedule id').fill('garden')
    await form.getByLabel('Kind').selectOption('interval')
    await form.getByLabel('Every', { exact: true }).fill('1h')
    await form.getByLabel('Run at start').check()
    await form
      .getByLabel('Actions (JSON array)')
      .fill(JSON.stringify([{ type: 'event', message: 'garden polled' }]))
    await form.getByRole('button', { name: 'Create schedule' }).click()
    await page.getByRole('heading', { name: 'Schedule garden', level: 1 }).waitFor()
    await page.getByRole('region', { name: 'Summary' }).getByText('every 1 h, and at start').waitFor()
    await page
      .getByRole('region', { name: 'History' })
      .getByRole('row')
      .filter({ hasText: 'run at start' })
      .waitFor()
    expect(p.errors).toEqual([])
  })
})

async function cookie(page: import('playwright-core').Page): Promise<Record<string, string>> {
  const cookies = await page.context().cookies()
  return { cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; ') }
}
