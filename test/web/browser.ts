// A real browser for the console tests: playwright-core driving Debian's
// chromium (scripts/prereqs.ts installs it; playwright never downloads a browser here).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import type { TestHub } from '../helpers/hub.ts'

const ROOT = resolve(import.meta.dir, '../..')
export const CHROMIUM = '/usr/bin/chromium'
/** Every test's screenshot (gitignored). */
export const ARTIFACTS = join(ROOT, 'artifacts', 'web')
/** The README's screenshots (committed): written when missing, or all again with HEARTH_UPDATE_SCREENSHOTS=1. */
export const DOC_SHOTS = join(ROOT, 'docs', 'screenshots')

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
]

export interface ConsoleBrowser extends AsyncDisposable {
  context: BrowserContext
  /** A fresh tab on the hub's console, logged in as admin unless `login: false`. */
  open(
    t: Pick<TestHub, 'url' | 'adminPassword'>,
    opts?: { login?: boolean; hash?: string },
  ): Promise<ConsolePage>
  close(): Promise<void>
}

export interface ConsolePage extends AsyncDisposable {
  page: Page
  /** Goes to a section by its hash (`#/devices`) and waits for its heading. */
  go(hash: string, heading: string | RegExp): Promise<void>
  /** Saves `artifacts/web/<name>.png`; with `doc`, also the README's `docs/screenshots/<name>.png`. */
  shot(name: string, opts?: { doc?: boolean }): Promise<void>
  /** Errors the page logged or threw (a console test expects none). */
  errors: string[]
}

/** Launches chromium with a new, empty profile; one per test file (`afterAll(() => b.close())`). */
export async function launchBrowser(): Promise<ConsoleBrowser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run "npm test" (it installs the chromium package)`)
  const profile = mkdtempSync(join(tmpdir(), 'hearth-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 860 },
    // Screenshots should not depend on the machine: one locale, one timezone, light colours.
    locale: 'en-GB',
    timezoneId: 'UTC',
    colorScheme: 'light',
    reducedMotion: 'reduce',
  })
  context.setDefaultTimeout(10_000)
  mkdirSync(ARTIFACTS, { recursive: true })
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await context.close()
    rmSync(profile, { recursive: true, force: true })
  }
  return {
    context,
    close,
    [Symbol.asyncDispose]: close,
    async open(t, opts = {}) {
      await context.clearCookies()
      const page = await context.newPage()
      const errors: string[] = []
      page.on('pageerror', (err) => errors.push(err.message))
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(msg.text())
      })
      await page.goto(`${t.url}/${opts.hash ?? ''}`)
      if (opts.login !== false) {
        await page.getByLabel('Username').fill('admin')
        await page.getByLabel('Password').fill(t.adminPassword)
        await page.getByRole('button', { name: 'Log in' }).click()
        await page.locator('.live-badge[data-status="open"]').waitFor()
        // The 401 of /auth/me before logging in is how the page learns it must show the form.
        errors.length = 0
      }
      const cp: ConsolePage = {
        page,
        errors,
        async go(hash, heading) {
          await page.evaluate((h) => {
            location.hash = h
          }, hash)
          await page.getByRole('heading', { level: 1, name: heading }).waitFor()
        },
        async shot(name, o = {}) {
          // The page from its top, without a passing notification over it.
          await page.evaluate(() => {
            window.scrollTo(0, 0)
            document.querySelector('.toast')?.classList.remove('shown')
          })
          const png = await page.screenshot({ fullPage: true })
          await Bun.write(join(ARTIFACTS, `${name}.png`), png)
          const doc = join(DOC_SHOTS, `${name}.png`)
          if (o.doc && (process.env.HEARTH_UPDATE_SCREENSHOTS === '1' || !existsSync(doc))) {
            mkdirSync(DOC_SHOTS, { recursive: true })
            await Bun.write(doc, png)
          }
        },
        [Symbol.asyncDispose]: async () => {
          await page.close()
        },
      }
      return cp
    },
  }
}
