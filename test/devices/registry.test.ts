import type { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { listDeviceAclRules, removeDeviceAclRule, setDeviceAclRule } from '../../src/devices/acl-rules.ts'
import {
  createDevice,
  DeviceError,
  findDeviceSecret,
  getDevice,
  listDevices,
  markAllDevicesOffline,
  markDeviceOffline,
  markDeviceOnline,
  removeDevice,
  rotateDeviceCredentials,
  setDeviceEnabled,
} from '../../src/devices/registry.ts'
import { openStore } from '../../src/store/open.ts'
import { tempDir } from '../helpers/hub.ts'

function store(): { db: Database } & Disposable {
  const dir = tempDir()
  const { db } = openStore(dir.path)
  return {
    db,
    [Symbol.dispose]: () => {
      db.close()
      dir[Symbol.dispose]()
    },
  }
}

describe('device registry', () => {
  it('creates a device whose password is stored only as an argon2id hash', async () => {
    using s = store()
    const { device, credentials } = await createDevice(s.db, { id: 'kitchen-1', name: 'Kitchen' }, 1000)
    expect(device).toEqual({
      id: 'kitchen-1',
      name: 'Kitchen',
      username: 'kitchen-1',
      enabled: true,
      createdAt: 1000,
      credentialsAt: 1000,
      lastSeen: null,
      online: false,
      lastClientId: null,
      lastAddress: null,
      lastDisconnectReason: null,
      preset: null,
    })
    expect(credentials.username).toBe('kitchen-1')
    expect(Buffer.from(credentials.password, 'base64url').length).toBeGreaterThanOrEqual(24)
    const row = s.db.query('SELECT * FROM devices').get() as Record<string, unknown>
    expect(JSON.stringify(row)).not.toContain(credentials.password)
    const secret = findDeviceSecret(s.db, 'kitchen-1')!
    expect(secret.passwordHash.startsWith('$argon2id$')).toBe(true)
    expect(await Bun.password.verify(credentials.password, secret.passwordHash)).toBe(true)
  })

  it('names a device after its id when no name is given', async () => {
    using s = store()
    const { device } = await createDevice(s.db, { id: 'd1' })
    expect(device.name).toBe('d1')
  })

  it('refuses a duplicate id and ids that cannot be a topic level', async () => {
    using s = store()
    await createDevice(s.db, { id: 'd1' })
    const reasons = async (id: string) =>
      createDevice(s.db, { id }).then(
        () => 'created',
        (e: DeviceError) => e.reason,
      )
    expect(await reasons('d1')).toBe('exists')
    for (const bad of ['', 'a/b', '+', '#', '$SYS', 'a.b', 'x'.repeat(65), 'é']) {
      expect(await reasons(bad)).toBe('invalid')
    }
  })

  it('rotates a password so that only the new one verifies', async () => {
    using s = store()
    const { credentials: first } = await createDevice(s.db, { id: 'd1' })
    const second = await rotateDeviceCredentials(s.db, 'd1', 5000)
    expect(second.password).not.toBe(first.password)
    const hash = findDeviceSecret(s.db, 'd1')!.passwordHash
    expect(await Bun.password.verify(first.password, hash)).toBe(false)
    expect(await Bun.password.verify(second.password, hash)).toBe(true)
    expect(getDevice(s.db, 'd1')?.credentialsAt).toBe(5000)
    await expect(rotateDeviceCredentials(s.db, 'nope')).rejects.toBeInstanceOf(DeviceError)
  })

  it('keeps per-device ACL rules, updates the access of an existing pattern and drops them with the device', async () => {
    using s = store()
    await createDevice(s.db, { id: 'd1' })
    setDeviceAclRule(s.db, 'd1', { pattern: 'home/+/light', access: 'read' })
    setDeviceAclRule(s.db, 'd1', { pattern: 'clients/%c/#', access: 'write' })
    setDeviceAclRule(s.db, 'd1', { pattern: 'home/+/light', access: 'readwrite' })
    expect(listDeviceAclRules(s.db, 'd1')).toEqual([
      { pattern: 'clients/%c/#', access: 'write' },
      { pattern: 'home/+/light', access: 'readwrite' },
    ])
    expect(() => setDeviceAclRule(s.db, 'd1', { pattern: 'a/#/b', access: 'read' })).toThrow(DeviceError)
    expect(() => setDeviceAclRule(s.db, 'ghost', { pattern: 'a', access: 'read' })).toThrow(DeviceError)
    expect(removeDeviceAclRule(s.db, 'd1', 'clients/%c/#')).toBe(true)
    expect(removeDeviceAclRule(s.db, 'd1', 'clients/%c/#')).toBe(false)
    expect(removeDevice(s.db, 'd1')).toBe(true)
    expect(removeDevice(s.db, 'd1')).toBe(false)
    expect(s.db.query('SELECT count(*) AS n FROM device_acl').get()).toEqual({ n: 0 })
  })

  it('records presence and marks every online device offline in one step', async () => {
    using s = store()
    for (const id of ['a', 'b', 'c']) await createDevice(s.db, { id })
    markDeviceOnline(s.db, 'a', { clientId: 'ca', address: '10.0.0.2' }, 100)
    markDeviceOnline(s.db, 'b', { clientId: 'cb', address: null }, 200)
    markDeviceOffline(s.db, 'b', 'keepalive timeout', 300)
    markDeviceOnline(s.db, 'c', { clientId: 'cc', address: null }, 400)
    expect(getDevice(s.db, 'b')).toMatchObject({
      online: false,
      lastSeen: 300,
      lastDisconnectReason: 'keepalive timeout',
    })
    expect(markAllDevicesOffline(s.db, 'hub restarted')).toEqual(['a', 'c'])
    expect(listDevices(s.db).map((d) => [d.id, d.online, d.lastDisconnectReason])).toEqual([
      ['a', false, 'hub restarted'],
      ['b', false, 'keepalive timeout'],
      ['c', false, 'hub restarted'],
    ])
    expect(getDevice(s.db, 'a')).toMatchObject({ lastClientId: 'ca', lastAddress: '10.0.0.2', lastSeen: 100 })
  })

  it('disables and enables a device', async () => {
    using s = store()
    await createDevice(s.db, { id: 'd1' })
    expect(setDeviceEnabled(s.db, 'd1', false)).toBe(true)
    expect(findDeviceSecret(s.db, 'd1')?.enabled).toBe(false)
    expect(setDeviceEnabled(s.db, 'd1', true)).toBe(true)
    expect(getDevice(s.db, 'd1')?.enabled).toBe(true)
    expect(setDeviceEnabled(s.db, 'ghost', true)).toBe(false)
  })
})
