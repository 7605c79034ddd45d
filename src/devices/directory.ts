import type { DeviceDirectory } from '../broker/device-directory.ts'
import { listDeviceAclRules } from './acl-rules.ts'
import { createCredentialCache, hashDevicePassword } from './credentials.ts'
import { findDeviceSecret, markAllDevicesOffline, markDeviceOffline, markDeviceOnline } from './registry.ts'

/** The registry as the broker's auth, ACL and presence use it. */
export const deviceDirectory: DeviceDirectory = {
  findDeviceSecret,
  hashDevicePassword,
  createCredentialCache,
  listDeviceAclRules,
  markDeviceOnline,
  markDeviceOffline,
  markAllDevicesOffline,
}
