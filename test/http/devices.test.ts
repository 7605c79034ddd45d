import { describe, expect, it } from 'bun:test'
import mqtt from 'mqtt'
import { queryEvents } from '../../src/store/events.ts'
import { createToken } from '../../src/store/tokens.ts'
import { startTestHub } from '../helpers/hub.ts'
import { createApiFixture, json } from './fixture.ts'

const codeOf = async (res: Response) => ((await res.json()) as { code: number }).code

interface Created {
  device: { id: string; name: string; enabled: boolean }
  credentials: { id: string; username: string; password: string }
}

describe('devices API', () => {
  it('registers a device, showing its credentials once, then lists and gets it', async () => {
    await using f = await createApiFixture()
    const write = f.bearer('write')
    const res = await f.request(
      '/api/v1/devices',
      json({ id: 'pi-1', name: 'Kitchen Pi' }, { headers: write }),
    )
    expect(res.status).toBe(201)
    const created = (await res.json()) as Created
    expect(created.device).toMatchObject({ id: 'pi-1', name: 'Kitchen Pi', enabled: true, online: false })
    expect(created.credentials.password.length).toBeGreaterThanOrEqual(20)
    const list = await (await f.request('/api/v1/devices', { headers: f.bearer('read') })).text()
    expect(list).toContain('pi-1')
    expect(list).not.toContain(created.credentials.password)
    const got = await f.request('/api/v1/devices/pi-1', { headers: f.bearer('read') })
    expect(await got.json()).toMatchObject({ id: 'pi-1', acl: [] })
    expect(queryEvents(f.db, { types: ['device.created'] }).items[0]?.subject).toBe('pi-1')
  })

  it('answers a duplicate id with 40901, a bad id with 40002 and an unknown one with 40401', async () => {
    await using f = await createApiFixture()
    const write = f.bearer('write')
    await f.request('/api/v1/devices', json({ id: 'pi-1' }, { headers: write }))
    expect(await codeOf(await f.request('/api/v1/devices', json({ id: 'pi-1' }, { headers: write })))).toBe(
      40901,
    )
    expect(await codeOf(await f.request('/api/v1/devices', json({ id: 'a/b' }, { headers: write })))).toBe(
      40002,
    )
    expect(await codeOf(await f.request('/api/v1/devices/nope', { headers: write }))).toBe(40401)
    expect(
      await codeOf(await f.request('/api/v1/devices/nope/rotate', { method: 'POST', headers: write })),
    ).toBe(40401)
  })

  it('needs write scope to change devices and read scope to look at them', async () => {
    await using f = await createApiFixture()
    const read = f.bearer('read')
    expect((await f.request('/api/v1/devices', { headers: read })).status).toBe(200)
    expect(await codeOf(await f.request('/api/v1/devices', json({ id: 'x' }, { headers: read })))).toBe(40301)
  })

  it('adds, lists and removes ACL rules of a device', async () => {
    await using f = await createApiFixture()
    const write = f.bearer('write')
    await f.request('/api/v1/devices', json({ id: 'pi-1' }, { headers: write }))
    const rule = { pattern: 'sensors/%u/#', access: 'write' }
    const set = await f.request('/api/v1/devices/pi-1/acl', json(rule, { headers: write }))
    expect(await set.json()).toEqual(rule)
    const bad = await f.request(
      '/api/v1/devices/pi-1/acl',
      json({ pattern: 'a/#/b', access: 'read' }, { headers: write }),
    )
    expect(await codeOf(bad)).toBe(40002)
    const list = await f.request('/api/v1/devices/pi-1/acl', { headers: write })
    expect(await list.json()).toEqual({ items: [rule] })
    const path = `/api/v1/devices/pi-1/acl?pattern=${encodeURIComponent(rule.pattern)}`
    expect((await f.request(path, { method: 'DELETE', headers: write })).status).toBe(204)
    expect(await codeOf(await f.request(path, { method: 'DELETE', headers: write }))).toBe(40401)
  })

  it('renames a device, refusing an empty name', async () => {
    await using f = await createApiFixture()
    const write = f.bearer('write')
    await f.request('/api/v1/devices', json({ id: 'pi-1' }, { headers: write }))
    const renamed = await f.request(
      '/api/v1/devices/pi-1',
      json({ name: 'Hall sensor' }, { method: 'PATCH', headers: write }),
    )
    expect(await renamed.json()).toMatchObject({ id: 'pi-1', name: 'Hall sensor', enabled: true })
    const empty = await f.request(
      '/api/v1/devices/pi-1',
      json({ name: ' ' }, { method: 'PATCH', headers: write }),
    )
    expect(await codeOf(empty)).toBe(40002)
    // The rename is an event (the console and Home Assistant discovery follow names); the
    // document says what PATCH does.
    expect(queryEvents(f.db, { types: ['device.renamed'] }).items.map((e) => e.detail)).toEqual([
      { device: 'pi-1', name: 'Hall sensor' },
    ])
    const doc = (await (await f.request('/api/v1/openapi.json')).json()) as {
      paths: Record<string, { patch: { summary: string } }>
    }
    expect(doc.paths['/devices/{id}']?.patch.summary).toStartWith('Rename a device')
  })

  it('disables a device and removes it', async () => {
    await using f = await createApiFixture()
    const write = f.bearer('write')
    await f.request('/api/v1/devices', json({ id: 'pi-1' }, { headers: write }))
    const off = await f.request(
      '/api/v1/devices/pi-1',
      json({ enabled: false }, { method: 'PATCH', headers: write }),
    )
    expect(await off.json()).toMatchObject({ id: 'pi-1', enabled: false })
    expect((await f.request('/api/v1/devices/pi-1', { method: 'DELETE', headers: write })).status).toBe(204)
    expect(await codeOf(await f.request('/api/v1/devices/pi-1', { headers: write }))).toBe(40401)
  })
})

describe('device credentials from the API', () => {
  it('let the device connect over MQTT, and a rotation locks the old password out', async () => {
    await using t = await startTestHub()
    const { secret } = createToken(t.hub.db, { name: 't', scope: 'write' })
    const headers = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }
    const created = (await (
      await fetch(`${t.url}/api/v1/devices`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ id: 'pi-1' }),
      })
    ).json()) as Created
    const connect = (password: string) =>
      mqtt.connectAsync(t.mqttUrl, { username: 'pi-1', password, clientId: 'pi-1', reconnectPeriod: 0 })
    const first = await connect(created.credentials.password)
    await first.endAsync()

    const rotated = await fetch(`${t.url}/api/v1/devices/pi-1/rotate`, { method: 'POST', headers })
    const fresh = (await rotated.json()) as { password: string }
    expect(fresh.password).not.toBe(created.credentials.password)
    await expect(connect(created.credentials.password)).rejects.toThrow(/Not authorized|Bad username/)
    const again = await connect(fresh.password)
    await again.endAsync()
  })
})

describe('devices API with a preset', () => {
  it('grants the preset and answers with the settings to paste into the tool, on the host the API was reached by', async () => {
    await using f = await createApiFixture()
    const res = await f.request(
      'http://hub.example/api/v1/devices',
      json({ id: 'plug-1', preset: 'tasmota' }, { headers: f.bearer('write') }),
    )
    expect(res.status).toBe(201)
    const body = (await res.json()) as Created & {
      device: { preset: string }
      settings: { tool: string; fields: Array<{ label: string; value: string }>; snippet: { text: string } }
    }
    expect(body.device.preset).toBe('tasmota')
    expect(body.settings.tool).toBe('Tasmota')
    expect(body.settings.fields).toContainEqual({ label: 'Host', value: 'hub.example' })
    expect(body.settings.fields).toContainEqual({ label: 'Topic', value: 'plug-1' })
    expect(body.settings.snippet.text).toContain(`MqttPassword ${body.credentials.password};`)
    const got = await f.request('/api/v1/devices/plug-1', { headers: f.bearer('read') })
    expect(await got.json()).toMatchObject({
      preset: 'tasmota',
      acl: expect.arrayContaining([{ pattern: 'tele/%u/#', access: 'write' }]),
    })
  })

  it('refuses an unknown preset with 40002 and registers nothing', async () => {
    await using f = await createApiFixture()
    const res = await f.request(
      '/api/v1/devices',
      json({ id: 'x', preset: 'openhab' }, { headers: f.bearer('write') }),
    )
    expect(await codeOf(res)).toBe(40002)
    expect((await f.request('/api/v1/devices/x', { headers: f.bearer('read') })).status).toBe(404)
  })
})
