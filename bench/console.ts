// Console page load: the compiled dist/hearth serving its embedded console to
// Debian's chromium. Cold = a new browser profile (nothing cached); warm = a reload. Measured from
// navigation start to the login form being usable, and after login to the overview drawn.
// Target: < 1 s. Prints figures; the test suite never asserts on timing.
import { ensureWeb } from '../scripts/build-web.ts'
import { ensureBinary } from '../test/helpers/binary.ts'
import { spawnHub } from '../test/helpers/process.ts'
import { launchBrowser } from '../test/web/browser.ts'

const RUNS = Number(process.env.RUNS ?? 5)
const out = (s: string) => process.stdout.write(`${s}\n`)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

await ensureWeb()
const binary = ensureBinary()
await using hub = await spawnHub(['serve'], {}, { command: [binary], startTimeoutMs: 20_000 })

const cold: number[] = []
const warm: number[] = []
const overview: number[] = []
for (let i = 0; i < RUNS; i++) {
  // A fresh browser each run, so the first load has an empty cache.
  await using browser = await launchBrowser()
  await using p = await browser.open({ url: hub.url, adminPassword: 'test-admin-password' }, { login: false })
  const { page } = p
  // In the page, performance.now() counts from the start of the navigation.
  const formReady = () => page.evaluate(() => performance.now())
  await page.getByRole('button', { name: 'Log in' }).waitFor()
  cold.push(await formReady())
  await page.reload()
  await page.getByRole('button', { name: 'Log in' }).waitFor()
  warm.push(await formReady())
  await page.getByLabel('Username').fill('admin')
  await page.getByLabel('Password').fill('test-admin-password')
  const t0 = performance.now()
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.locator('[data-stat="clients"]').waitFor()
  overview.push(performance.now() - t0)
}

const fmt = (xs: number[]) =>
  `${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`
out(
  `console: first load (empty cache) → login form usable, median of ${RUNS}: ${fmt(cold)} — target < 1000 ms`,
)
out(`console: reload (cached assets) → login form usable: ${fmt(warm)}`)
out(`console: log in → overview drawn: ${fmt(overview)}`)
