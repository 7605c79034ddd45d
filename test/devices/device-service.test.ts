import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { createBus } from '../../src/bus/bus.ts'
import { createDeviceService } from '../../src/devices/device-service.ts'
import { silentLogger } from '../../src/log.ts'
import type { AnyHubEvent, ConsoleFrame } from '../../src/protocol.ts'
import { queryEvents } from '../../src/store/events.ts'
import { migrate } from '../../src/store/migrate.ts'
import { createSession } from '../../src/store/sessions.ts'
import { findUser } from '../../src/store/users.ts'
import { cli } from '../helpers/cli.ts'
import { startTestHub, tempDir } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'

/** The device events of an event list, as `[type, subject, detail]`. */
const deviceEvents = (events: readonly AnyHubEvent[]) =>
  events
    .filter((e) => e.type.startsWith('device.'))
    .map((e): [string, string | undefined, unknown] => [e.type, e.subject, e.detail])
/** A detail that names the device (its field is being renamed from `id` to `device`) and has `fields`. */
const about = (fields: Record<string, unknown> = {}) => expect.objectContaining(fields)

describe('the device service', () => {
  it('emits one event per change, and none for a change that changes nothing', async () => {
    const db = new Database(':memory:', { strict: true })
    migrate(db)
    const bus = createBus(silentLogger())
    const seen: AnyHubEvent[] = []
    bus.onAny('test', (e) => seen.push(e))
    const devices = createDeviceService({ db, bus, now: () => 1000 })

    await devices.create({ id: 'd1', name: 'Hall' })
    expect(devices.rename('d1', 'Hall')?.name).toBe('Hall')
    expect(devices.rename('d1', 'Porch')?.name).toBe('Porch')
    expect(devices.setEnabled('d1', false)?.enabled).toBe(false)
    expect(devices.setEnabled('d1', false)?.enabled).toBe(false)
    expect(devices.update('d1', { enabled: true, name: 'Porch lamp' })).toMatchObject({
      enabled: true,
      name: 'Porch lamp',
    })
    await devices.rotate('d1')
    expect(devices.remove('d1')).toBe(true)
    expect([devices.rename('d1', 'x'), devices.setEnabled('d1', true), devices.remove('d1')]).toEqual([
      undefined,
      undefined,
      false,
    ])
    expect(deviceEvents(seen)).toEqual([
      ['device.created', 'd1', about({ name: 'Hall' })],
      ['device.renamed', 'd1', about({ name: 'Porch' })],
      ['device.disabled', 'd1', { device: 'd1' }],
      ['device.enabled', 'd1', { device: 'd1' }],
      ['device.renamed', 'd1', about({ name: 'Porch lamp' })],
      ['device.rotated', 'd1', about()],
      ['device.removed', 'd1', about()],
    ])
    db.close()
  })
})

describe('renaming or disabling a device is an event', () => {
  it('from the console (the API with its session and CSRF token): every open console hears it', async () => {
    await using t = await startTestHub()
    const admin = findUser(t.hub.db, 'admin')!
    const session = createSession(t.hub.db, admin.id, 60_000)
    const cookie = `hearth_session=${session.token}`
    const frames: ConsoleFrame[] = []
    const ws = new WebSocket(`ws://127.0.0.1:${t.httpPort}/ws`, {
      headers: { cookie },
    } as unknown as string[])
    ws.addEventListener('message', (e) => frames.push(JSON.parse(String(e.data))))
    await waitFor(() => frames.some((f) => f.type === 'snapshot'), { what: 'the snapshot' })
    const change = (path: string, body: unknown) =>
      fetch(`${t.url}/api/v1/devices${path}`, {
        method: path ? 'PATCH' : 'POST',
        headers: { cookie, 'x-csrf-token': session.csrfToken, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    expect((await change('', { id: 'd1' })).status).toBe(201)
    expect((await change('/d1', { name: 'Hall', enabled: false })).status).toBe(200)
    const live = () =>
      deviceEvents(frames.flatMap((f) => (f.type === 'event' ? [f.event] : []))).filter(
        ([type]) => type !== 'device.created',
      )
    await waitFor(() => live().length === 2, { what: 'both events on the console' })
    expect(live()).toEqual([
      ['device.disabled', 'd1', { device: 'd1' }],
      ['device.renamed', 'd1', about({ name: 'Hall' })],
    ])
    ws.close()
  })

  it('from the CLI: recorded in the event log the running hub and the console read', async () => {
    using dir = tempDir()
    const env = { HEARTH_DATA_DIR: dir.path }
    await cli(['device', 'add', 'd1'], { cwd: dir.path, env })
    expect((await cli(['device', 'rename', 'd1', 'Hall'], { cwd: dir.path, env })).code).toBe(0)
    expect((await cli(['device', 'disable', 'd1'], { cwd: dir.path, env })).code).toBe(0)
    expect((await cli(['device', 'enable', 'd1'], { cwd: dir.path, env })).code).toBe(0)
    await using t = await startTestHub({}, { dataDir: dir.path })
    const logged = queryEvents(t.hub.db, { types: ['device.*'] }).items.reverse()
    expect(deviceEvents(logged)).toEqual([
      ['device.created', 'd1', about({ name: 'd1' })],
      ['device.renamed', 'd1', about({ name: 'Hall' })],
      ['device.disabled', 'd1', { device: 'd1' }],
      ['device.enabled', 'd1', { device: 'd1' }],
    ])
  })
})
