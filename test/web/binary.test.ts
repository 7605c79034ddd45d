// The binary is the product [STYLE 20]: the compiled dist/hearth serves the console from inside
// itself (no file on disk, no network) and it works in a browser.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ensureBinary } from '../helpers/binary.ts'
import { spawnHub } from '../helpers/process.ts'
import { type ConsoleBrowser, launchBrowser } from './browser.ts'

const DIST = resolve(import.meta.dir, '../../web/dist')

let browser: ConsoleBrowser
beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(() => browser.close())

describe('the console in the compiled binary', () => {
  it('is embedded in dist/hearth and logs in from it', async () => {
    const binary = ensureBinary()
    // Embedded: the bundle's bytes are inside the executable, not read from web/dist at run time.
    const app = readFileSync(join(DIST, 'app.js'))
    expect(readFileSync(binary).includes(app.subarray(0, 4096))).toBe(true)

    await using hub = await spawnHub(['serve'], {}, { command: [binary], startTimeoutMs: 20_000 })
    const served = await fetch(`${hub.url}/assets/app.js`, { headers: { 'accept-encoding': 'identity' } })
    expect(Buffer.from(await served.arrayBuffer()).equals(app)).toBe(true)

    await using p = await browser.open({ url: hub.url, adminPassword: 'test-admin-password' })
    await p.page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor()
    await p.go('#/settings', 'Settings')
    await p.page.getByRole('row').filter({ hasText: 'admin' }).first().waitFor()
    await p.shot('binary-settings')
    expect(p.errors).toEqual([])
  })
})
