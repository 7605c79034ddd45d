// Source (c)'s console in a real browser: groups and messages over /ws, every result live.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { InboxEnvelope } from '../../src/protocol.ts'
import { addDevice, connect, login, nextMessage } from '../broker/mqtt-fixture.ts'
import { startTestHub } from '../helpers/hub.ts'
import { type ConsoleBrowser, launchBrowser } from './browser.ts'

let browser: ConsoleBrowser
beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(() => browser.close())

describe('groups & messages', () => {
  it('creates a group, sends it a group message and shows each result row as it happens', async () => {
    await using t = await startTestHub()
    const lamps = await Promise.all(['lamp-1', 'lamp-2'].map((id) => addDevice(t.hub.db, id)))
    await using lamp1 = await connect(t.mqttUrl, { ...login(lamps[0]!), clientId: 'lamp-1' })
    await using lamp2 = await connect(t.mqttUrl, { ...login(lamps[1]!), clientId: 'lamp-2' })
    await lamp1.subscribeAsync('devices/lamp-1/inbox', { qos: 1 })
    await lamp2.subscribeAsync('devices/lamp-2/inbox', { qos: 1 })

    await using p = await browser.open(t, { hash: '#/groups' })
    const { page } = p
    await page.getByRole('heading', { name: 'Groups & messages', level: 1 }).waitFor()

    const create = page.getByRole('form', { name: 'Create a group' })
    await create.getByLabel('Group name').fill('Living room')
    await create.getByLabel('Description').fill('lamps by the sofa')
    await create.getByLabel('Devices').fill('lamp-1, lamp-2, lamp-9')
    await create.getByRole('button', { name: 'Create group' }).click()
    const created = page.locator('tr[data-kind="group.created"]')
    await created.waitFor()
    expect((await created.textContent()) ?? '').toContain(
      'name Living room, 2 devices; unknown devices: lamp-9',
    )
    const groupId = (await created.locator('code').textContent()) ?? ''
    expect(groupId).toMatch(/^grp-/)
    await page.getByRole('row').filter({ hasText: 'lamps by the sofa' }).waitFor()

    const got1 = nextMessage(lamp1, 'devices/lamp-1/inbox')
    const got2 = nextMessage(lamp2, 'devices/lamp-2/inbox')
    const send = page.getByRole('form', { name: 'Group message' })
    await send.getByLabel('Group id').fill(groupId)
    await send.getByLabel('Message').fill('{"power": "on"}')
    await send.getByRole('button', { name: 'Send to group' }).click()

    const sent = page.locator(`tr[data-kind="message.sent"][data-group="${groupId}"]`)
    await sent.waitFor()
    expect((await sent.textContent()) ?? '').toContain('Group message sent')
    // Both lamps acknowledge at QoS 1: the same row then counts them delivered, and a completed row follows.
    const envelope = JSON.parse((await got1).payload) as InboxEnvelope
    expect(envelope).toMatchObject({ kind: 'group', groupId, message: { power: 'on' } })
    await got2
    await page.locator('tr[data-kind="message.completed"]').waitFor()
    await sent.filter({ hasText: 'delivered 2, queued 0, expired 0, failed 0' }).waitFor()

    // A refusal is a result row too (this one for a group that does not exist).
    await send.getByLabel('Group id').fill('grp-missing')
    await send.getByLabel('Message').fill('hello')
    await send.getByRole('button', { name: 'Send to group' }).click()
    await page.locator('tr[data-kind="error"]').filter({ hasText: 'sendGroupMsg failed' }).waitFor()

    // Upstream: a lamp's message on its outbox topic shows up live.
    await lamp1.publishAsync('devices/lamp-1/outbox', JSON.stringify({ button: 'pressed' }), { qos: 1 })
    await page.getByRole('row').filter({ hasText: '{"button":"pressed"}' }).waitFor()
    await p.shot('groups', { doc: true })
    expect(p.errors).toEqual([])
  })

  it('shows a unicast to an unknown device as failed, not as a message sent', async () => {
    await using t = await startTestHub()
    await using p = await browser.open(t, { hash: '#/groups' })
    const { page } = p
    const send = page.getByRole('form', { name: 'Unicast' })
    await send.getByLabel('Device').fill('ghost')
    await send.getByLabel('Message').fill('{"power": "on"}')
    await send.getByRole('button', { name: 'Send unicast' }).click()
    const sent = page.locator('tr[data-kind="message.sent"]')
    await sent.waitFor()
    expect((await sent.textContent()) ?? '').toContain('unknown devices: ghost')
    expect(await sent.locator('.badge').textContent()).toBe('Unicast message failed')
    expect(await sent.locator('.badge').getAttribute('class')).toBe('badge bad')
    const completed = page.locator('tr[data-kind="message.completed"]')
    await completed.waitFor()
    expect(await completed.locator('.badge').getAttribute('class')).toBe('badge bad')
    expect(p.errors).toEqual([])
  })
})
