// The console in a real browser: logging in, a device coming online live, the
// timeline, and the layout at phone width with the keyboard.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { addDevice, connect, login } from '../broker/mqtt-fixture.ts'
import { startTestHub } from '../helpers/hub.ts'
import { type ConsoleBrowser, launchBrowser } from './browser.ts'

let browser: ConsoleBrowser
beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(() => browser.close())

describe('console', () => {
  it('shows a login form, refuses a wrong password, then logs in to the overview', async () => {
    await using t = await startTestHub()
    await using p = await browser.open(t, { login: false })
    const { page } = p
    await page.getByRole('heading', { name: 'Hearth', level: 1 }).waitFor()
    await p.shot('login', { doc: true })

    await page.getByLabel('Username').fill('admin')
    await page.getByLabel('Password').fill('not the password')
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('alert').filter({ hasText: 'wrong username or password (40104)' }).waitFor()

    await page.getByLabel('Password').fill(t.adminPassword)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor()
    await page.locator('.live-badge[data-status="open"]').waitFor()
    await page.locator('[data-stat="clients"]').filter({ hasText: '0' }).waitFor()
    expect(await page.title()).toBe('Overview · Hearth')
    await p.shot('overview', { doc: true })

    // A reload keeps the session (the cookie) and gets the CSRF token back from /auth/me.
    await page.reload()
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor()
    await page.getByRole('button', { name: 'Log out' }).click()
    await page.getByRole('button', { name: 'Log in' }).waitFor()
    // Errors before logging in are the expected 401s of /auth/me and the wrong password.
    expect(p.errors.filter((e) => !e.includes('401'))).toEqual([])
  })

  it('shows a device come online live when its MQTT client connects, with the event on the timeline', async () => {
    await using t = await startTestHub()
    const creds = await addDevice(t.hub.db, 'kitchen-pi', 'Kitchen Pi')
    await addDevice(t.hub.db, 'porch-light', 'Porch light')
    await using p = await browser.open(t, { hash: '#/devices' })
    const { page } = p
    await page.getByRole('heading', { name: 'Devices', level: 1 }).waitFor()
    const status = page.locator('[data-presence="kitchen-pi"]')
    await status.filter({ hasText: 'offline' }).waitFor()

    await using device = await connect(t.mqttUrl, { ...login(creds), clientId: 'kitchen-pi' })
    // No reload: the row changes when the hub's device.online event arrives over /ws.
    await status.filter({ hasText: 'online' }).waitFor()
    const row = page.getByRole('row').filter({ hasText: 'kitchen-pi' })
    expect((await row.textContent()) ?? '').toContain('now')
    await p.shot('devices', { doc: true })

    await p.go('#/timeline', 'Live timeline')
    await page.getByLabel('Type').fill('device.online')
    const item = page.locator('.timeline-list li[data-type="device.online"]').first()
    await item.waitFor()
    await item.getByRole('button').click()
    await page.getByRole('region', { name: 'Payload' }).getByText('"clientId": "kitchen-pi"').waitFor()
    await p.shot('timeline', { doc: true })

    // Paused, the list holds new events back; resumed, they appear.
    await page.getByLabel('Type').fill('device.offline')
    await page.getByRole('button', { name: 'Pause' }).click()
    await device.endAsync()
    await page.getByText('1 new events held while paused').waitFor()
    expect(await page.locator('.timeline-list li[data-type="device.offline"]').count()).toBe(0)
    await page.getByRole('button', { name: 'Resume' }).click()
    await page.locator('.timeline-list li[data-type="device.offline"]').waitFor()
    expect(p.errors).toEqual([])
  })

  it('adds a device and shows its credentials once, with a mosquitto_pub line that works', async () => {
    await using t = await startTestHub()
    await using p = await browser.open(t, { hash: '#/devices' })
    const { page } = p
    const form = page.getByRole('form', { name: 'Add a device' })
    await form.getByLabel('Device id').fill('garage-door')
    await form.getByLabel('Name').fill('Garage door')
    await form.getByRole('button', { name: 'Add device' }).click()
    const panel = page.getByRole('region', { name: 'Credentials of garage-door' })
    const command = (await panel.locator('pre').first().textContent()) ?? ''
    expect(command).toContain(`-p ${t.mqttPort}`)
    expect(command).toContain("-t 'devices/garage-door/outbox'")
    const config = JSON.parse((await panel.locator('pre').nth(1).textContent()) ?? '')
    expect(config.mqtt).toMatchObject({ port: t.mqttPort, username: 'garage-door', clientId: 'garage-door' })
    await p.shot('device-credentials')

    // The snippet is a real command: Debian's mosquitto_pub connects with it and publishes.
    const upstream = new Promise((resolve) => t.hub.bus.on('test', 'device.upstream', resolve))
    const proc = Bun.spawn(['sh', '-c', command], { stderr: 'pipe' })
    expect(await proc.exited).toBe(0)
    expect(await upstream).toMatchObject({ subject: 'garage-door' })

    // Reloaded, the page never shows the password again.
    await page.reload()
    await page.getByRole('row').filter({ hasText: 'garage-door' }).waitFor()
    expect(await page.getByText(config.mqtt.password).count()).toBe(0)
  })

  it('adds a device with a preset and shows the settings to paste into that tool', async () => {
    await using t = await startTestHub()
    await using p = await browser.open(t, { hash: '#/devices' })
    const { page } = p
    const form = page.getByRole('form', { name: 'Add a device' })
    await form.getByLabel('Device id').fill('plug-1')
    await form.getByLabel('Preset').selectOption({ label: 'Tasmota' })
    await form.getByRole('button', { name: 'Add device' }).click()
    const settings = page.getByRole('region', { name: 'Tasmota settings' })
    const backlog = (await settings.locator('pre').first().textContent()) ?? ''
    expect(backlog).toContain(`MqttPort ${t.mqttPort}; MqttClient plug-1; MqttUser plug-1; MqttPassword `)
    expect(backlog).toContain('Topic plug-1; FullTopic %prefix%/%topic%/')
    expect((await settings.textContent()) ?? '').toContain('tele/%u/# (write)')
    await p.shot('device-preset')
  })

  it('is usable at phone width with the keyboard alone', async () => {
    await using t = await startTestHub()
    await using p = await browser.open(t)
    const { page } = p
    await page.setViewportSize({ width: 390, height: 800 })
    const menu = page.getByRole('button', { name: 'Menu' })
    await menu.focus()
    await page.keyboard.press('Enter')
    expect(await menu.getAttribute('aria-expanded')).toBe('true')
    const nav = page.getByRole('navigation', { name: 'Sections' })
    await nav.getByRole('link', { name: 'Settings' }).focus()
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor()
    expect(await nav.isVisible()).toBe(false)
    // The page fits: nothing wider than the screen but what scrolls inside its own box.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(0)
    await p.shot('phone-settings', { doc: true })
  })
})
