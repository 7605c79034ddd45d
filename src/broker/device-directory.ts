import type { Database } from 'bun:sqlite'
import type { AclRule } from './config.ts'

// The broker sits below devices/ (the device features plug into it), so its policy (auth, ACL,
// presence) names what it needs of the device registry here; devices/ provides it
// (devices/directory.ts) and compose passes it in.

/** A device's stored credentials, as authentication checks them. */
export interface DeviceSecret {
  id: string
  enabled: boolean
  passwordHash: string
  /** When the credentials were last issued: a later value means they were rotated since. */
  credentialsAt: number
}

export interface CredentialCache {
  /**
   * Whether `password` matches `passwordHash` (the device's stored hash). A pair verified before
   * answers from memory; anything else pays for one argon2id verification.
   */
  verify(deviceId: string, password: string, passwordHash: string): Promise<boolean>
  /** Drops what is remembered for a device (after rotate or remove in this process). */
  forget(deviceId: string): void
  readonly size: number
}

/** The device registry's reads and writes that the broker's policy makes. */
export interface DeviceDirectory {
  findDeviceSecret(db: Database, username: string): DeviceSecret | undefined
  hashDevicePassword(password: string): Promise<string>
  createCredentialCache(): CredentialCache
  listDeviceAclRules(db: Database, deviceId: string): readonly AclRule[]
  markDeviceOnline(
    db: Database,
    id: string,
    at: { clientId: string; address: string | null },
    now?: number,
  ): void
  markDeviceOffline(db: Database, id: string, reason: string, now?: number): void
  markAllDevicesOffline(db: Database, reason: string): string[]
}
