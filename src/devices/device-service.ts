import type { Database } from 'bun:sqlite'
import type { Bus } from '../bus/bus.ts'
import type { PresetName } from './presets.ts'
import {
  createDevice,
  type Device,
  type DeviceCredentials,
  getDevice,
  removeDevice,
  renameDevice,
  rotateDeviceCredentials,
  setDeviceEnabled,
} from './registry.ts'

interface DeviceServiceOptions {
  db: Database
  /**
   * Where the events go: the hub's bus, or the event log when the CLI changes the registry in
   * its own process. The broker ends a device's live connections on `device.disabled`,
   * `device.removed` and `device.rotated` (and notices them from another process too).
   */
  bus: Pick<Bus, 'emit'>
  now?: () => number
}

/**
 * The registry's changes as the HTTP routes, the console and the CLI share them (as ntfy's
 * `user.Manager` does for users): each change is an event with the device id as its subject.
 */
export interface DeviceService {
  /** Registers a device; its password is in the answer only. Throws `DeviceError`. */
  create(input: {
    id: string
    name?: string | undefined
    preset?: PresetName | undefined
  }): Promise<{ device: Device; credentials: DeviceCredentials }>
  /** Undefined: there is no such device. Throws `DeviceError` for an invalid name. */
  rename(id: string, name: string): Device | undefined
  /** Undefined: there is no such device. A disabled device is refused (CONNACK 5) and its live connections end. */
  setEnabled(id: string, enabled: boolean): Device | undefined
  /** Both changes of a `PATCH`, enable state first; undefined: there is no such device. */
  update(id: string, change: { name?: string | undefined; enabled?: boolean | undefined }): Device | undefined
  /** A new password; the old one no longer connects and its live connections end. Throws `DeviceError`. */
  rotate(id: string): Promise<DeviceCredentials>
  /** Removes the device and its ACL rules; false when there was none. */
  remove(id: string): boolean
}

export function createDeviceService(opts: DeviceServiceOptions): DeviceService {
  const { db, bus } = opts
  const now = opts.now ?? Date.now

  // Each change starts from the device as read once, so a `PATCH` of both reads it once too.
  const rename = (before: Device, name: string): Device => {
    renameDevice(db, before.id, name)
    const after = getDevice(db, before.id) ?? before
    if (after.name !== before.name)
      bus.emit('device.renamed', { device: before.id, name: after.name }, { subject: before.id })
    return after
  }
  const setEnabled = (before: Device, enabled: boolean): Device => {
    if (before.enabled === enabled) return before
    setDeviceEnabled(db, before.id, enabled)
    bus.emit(enabled ? 'device.enabled' : 'device.disabled', { device: before.id }, { subject: before.id })
    return getDevice(db, before.id) ?? before
  }
  const existing = (id: string, change: (device: Device) => Device) => {
    const device = getDevice(db, id)
    return device && change(device)
  }

  return {
    async create(input) {
      const created = await createDevice(db, input, now())
      const { device } = created
      bus.emit('device.created', { device: device.id, name: device.name }, { subject: device.id })
      return created
    },
    rename: (id, name) => existing(id, (device) => rename(device, name)),
    setEnabled: (id, enabled) => existing(id, (device) => setEnabled(device, enabled)),
    update: (id, { enabled, name }) =>
      existing(id, (device) => {
        const next = enabled === undefined ? device : setEnabled(device, enabled)
        return name === undefined ? next : rename(next, name)
      }),
    async rotate(id) {
      const credentials = await rotateDeviceCredentials(db, id, now())
      bus.emit('device.rotated', { device: id }, { subject: id })
      return credentials
    },
    remove(id) {
      if (!removeDevice(db, id)) return false
      bus.emit('device.removed', { device: id }, { subject: id })
      return true
    },
  }
}
