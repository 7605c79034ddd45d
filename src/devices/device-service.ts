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

  const service: DeviceService = {
    async create(input) {
      const created = await createDevice(db, input, now())
      const { device } = created
      bus.emit('device.created', { device: device.id, name: device.name }, { subject: device.id })
      return created
    },
    rename(id, name) {
      const before = getDevice(db, id)
      if (!before) return undefined
      renameDevice(db, id, name)
      const after = getDevice(db, id) ?? before
      if (after.name !== before.name)
        bus.emit('device.renamed', { device: id, name: after.name }, { subject: id })
      return after
    },
    setEnabled(id, enabled) {
      const before = getDevice(db, id)
      if (!before) return undefined
      setDeviceEnabled(db, id, enabled)
      if (before.enabled !== enabled)
        bus.emit(enabled ? 'device.enabled' : 'device.disabled', { device: id }, { subject: id })
      return getDevice(db, id) ?? before
    },
    update(id, change) {
      if (!getDevice(db, id)) return undefined
      if (change.enabled !== undefined) service.setEnabled(id, change.enabled)
      if (change.name !== undefined) service.rename(id, change.name)
      return getDevice(db, id)
    },
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
  return service
}
