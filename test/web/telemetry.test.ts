// Telemetry in a real browser: readings posted to /ingest are drawn, new ones join live.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { addDevice } from '../broker/mqtt-fixture.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { type ConsoleBrowser, launchBrowser } from './browser.ts'

let browser: ConsoleBrowser
beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(() => browser.close())

async function ingest(t: TestHub, device: string, password: string, body: unknown) {
  const res = await fetch(`${t.url}/ingest/${device}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${device}:${password}`).toString('base64')}`,
    },
    body: JSON.stringify(body),
  })
  expect(res.status).toBe(202)
}

describe('telemetry', () => {
  it('draws posted readings of several metrics on one chart and adds new ones live', async () => {
    await using t = await startTestHub()
    const creds = await addDevice(t.hub.db, 'air-1', 'Air quality')
    const now = Date.now()
    // Twenty readings a minute and a half apart over the last half hour: NO2 climbing, CO steady.
    const readings = Array.from({ length: 20 }, (_, i) => ({
      ts: now - (20 - i) * 90_000,
      no2: 40 + i * 3,
      co: { value: (1 + (i % 4) / 10).toFixed(2) },
    }))
    await ingest(t, 'air-1', creds.password, readings)

    await using p = await browser.open(t, { hash: '#/telemetry/air-1/no2,co' })
    const { page } = p
    await page.getByRole('heading', { name: 'Telemetry', level: 1 }).waitFor()
    const chart = page.getByRole('img', { name: 'Telemetry chart of the chosen device and metrics' })
    await page.locator('figure.chart[data-points="20"]').waitFor()
    expect(await chart.locator('canvas').count()).toBe(1)
    // uPlot's legend names both series: several metrics on one chart.
    expect((await chart.locator('.u-legend').textContent()) ?? '').toMatch(/no2[\s\S]*co|co[\s\S]*no2/)
    expect(await page.getByRole('checkbox', { name: 'no2' }).isChecked()).toBe(true)
    expect(await page.getByRole('checkbox', { name: 'co' }).isChecked()).toBe(true)
    await page.locator('dd[data-metric="no2"]').filter({ hasText: '97' }).waitFor()

    // The range picker: the last hour still holds every reading.
    await page.getByLabel('Range').selectOption('hour')
    await page.getByRole('status').filter({ hasText: '40 points of co, no2 for air-1' }).waitFor()

    // A new reading arrives over /ws and joins the chart at its right edge, no reload.
    await ingest(t, 'air-1', creds.password, { no2: 101.5, co: 1.4 })
    await page.locator('dd[data-metric="no2"]').filter({ hasText: '101.5' }).waitFor()
    await page.locator('figure.chart[data-points="21"]').waitFor()
    await p.shot('telemetry', { doc: true })
    expect(p.errors).toEqual([])
  })
})
