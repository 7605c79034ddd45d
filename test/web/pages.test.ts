// Every page in a real browser: each opens without an error, the rules page tests a rule against a
// pasted payload, and Settings shows a Slack destination that Slack called gone as down.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { actionSchema } from '../../src/catalog/actions.ts'
import { SlackAnswers, startSlackPeer } from '../bridges/slack/peer.ts'
import { addDevice } from '../broker/mqtt-fixture.ts'
import { startTestHub } from '../helpers/hub.ts'
import { type ConsoleBrowser, launchBrowser } from './browser.ts'

let browser: ConsoleBrowser
beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(() => browser.close())

const PAGES: Array<[string, string]> = [
  ['#/', 'Overview'],
  ['#/timeline', 'Live timeline'],
  ['#/devices', 'Devices'],
  ['#/devices/pi-1', 'Device pi-1'],
  ['#/groups', 'Groups & messages'],
  ['#/telemetry', 'Telemetry'],
  ['#/rules', 'Rules'],
  ['#/schedules', 'Schedules'],
  ['#/webhooks', 'Webhooks'],
  ['#/push', 'Push'],
  ['#/mqtt', 'MQTT explorer'],
  ['#/settings', 'Settings'],
]

describe('pages', () => {
  it('opens every page without an error', async () => {
    await using t = await startTestHub()
    await addDevice(t.hub.db, 'pi-1', 'Sensor Pi')
    await using p = await browser.open(t)
    for (const [hash, heading] of PAGES) {
      await p.go(hash, heading)
      expect(await p.page.title()).toBe(`${heading} · Hearth`)
    }
    // The device page: its ACL rules, state and message form are there.
    await p.go('#/devices/pi-1', 'Device pi-1')
    await p.page.getByRole('region', { name: 'ACL rules' }).getByText('No extra rules.').waitFor()
    const acl = p.page.getByRole('form', { name: 'Add an ACL rule' })
    await acl.getByLabel('Topic filter').fill('sensors/%u/#')
    await acl.getByRole('button', { name: 'Add rule' }).click()
    await p.page.getByRole('button', { name: 'Remove rule sensors/%u/#' }).waitFor()
    await p.shot('device')
    // Push without a service account: tokens may register, the page says nothing is sent.
    await p.go('#/push', 'Push')
    await p.page.getByText('Push is not configured (push.serviceAccount is not set)').waitFor()
    await p.page
      .getByRole('region', { name: 'Registered tokens' })
      .getByText('No phones registered yet.')
      .waitFor()
    expect(p.errors).toEqual([])
  })

  it('shows a Slack destination that answered 404 as down in the bridge status, and a healthy one as ok', async () => {
    await using slack = startSlackPeer()
    slack.behaveWebhook('gone', () => SlackAnswers.noService())
    await using t = await startTestHub({
      slack: {
        webhookUrl: slack.webhook('healthy'),
        destinations: [{ name: 'ops', webhookUrl: slack.webhook('gone') }],
      },
    })
    const latched = new Promise((resolve) => t.hub.bus.on('test', 'slack.dead', resolve))
    await using p = await browser.open(t, { hash: '#/settings' })
    const bridges = p.page.getByRole('region', { name: 'Bridge status' })
    const row = (name: string) =>
      bridges.getByRole('row').filter({ has: p.page.getByText(name, { exact: true }) })
    await row('ops').filter({ hasText: 'ok' }).waitFor()

    // Both destinations are used while the page is open: the status follows live.
    for (const target of ['default', 'ops'])
      await t.hub.actions.run(actionSchema.parse({ type: 'slack', target, text: 'door opened' }), {
        source: 'test',
      })
    await latched
    await row('ops')
      .filter({ hasText: 'down' })
      .filter({ hasText: 'Slack says it is gone: HTTP 404: no_service' })
      .waitFor()
    await row('default').filter({ hasText: 'ok' }).filter({ hasText: 'just now' }).waitFor()
    await row('push').filter({ hasText: 'disabled' }).waitFor()
    expect(await bridges.locator('[data-stat="down"]').textContent()).toBe('1')
    await p.shot('settings', { doc: true })
    expect(p.errors).toEqual([])
  })

  it('saves a rule and tests it against a pasted payload without acting', async () => {
    await using t = await startTestHub()
    await using p = await browser.open(t, { hash: '#/rules' })
    const { page } = p
    await page.getByRole('heading', { name: 'Rules', level: 1 }).waitFor()
    // The editor starts from source (d)'s NO2 threshold.
    await page.getByLabel('Rule id').fill('no2-warning')
    await page.getByRole('button', { name: 'Save rule' }).click()
    await page.getByRole('row').filter({ hasText: 'no2-warning' }).filter({ hasText: 'enabled' }).waitFor()

    const tester = page.getByRole('form', { name: 'Test a rule' })
    await tester.getByLabel('Payload (JSON)').fill('{"no2": 91}')
    await tester.getByRole('button', { name: 'Test rule' }).click()
    await page.getByText('It would fire 1 time(s):').waitFor()
    await tester.getByLabel('Payload (JSON)').fill('{"no2": 40}')
    await tester.getByRole('button', { name: 'Test rule' }).click()
    await page.getByText('It would not fire.').waitFor()

    await page.getByRole('button', { name: 'Disable no2-warning' }).click()
    await page.getByRole('row').filter({ hasText: 'no2-warning' }).filter({ hasText: 'disabled' }).waitFor()
    await p.shot('rules', { doc: true })
    expect(p.errors).toEqual([])
  })
})
