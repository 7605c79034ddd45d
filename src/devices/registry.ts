import type { Database } from 'bun:sqlite'
import { z } from 'zod'
import type { DeviceSecret } from '../broker/device-directory.ts'
import { ReasonError } from '../errors.ts'
import { hashDevicePassword, newDevicePassword } from './credentials.ts'
import { type PresetName, presetRules } from './presets.ts'
import type { DeviceCredentialsView, DeviceView } from './schema.ts'

/**
 * A device id is also its MQTT username and a level of its topics (`devices/<id>/…`), so it may
 * hold no `/`, wildcard, `$` or `.` (a level separator for dotted-topic clients).
 */
export const deviceIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'a device id is 1-64 letters, digits, "-" or "_"')

const deviceNameSchema = z.string().trim().min(1).max(200)

/** One registered device, without its secret. */
export type Device = DeviceView

/** What `device add` / `device rotate` show once: the hub keeps only the hash. */
export type DeviceCredentials = DeviceCredentialsView

export type { DeviceSecret }

export class DeviceError extends ReasonError<'exists' | 'not-found' | 'invalid'> {
  override name = 'DeviceError'
}

interface DeviceRow {
  id: string
  name: string
  username: string
  password_hash: string
  enabled: number
  created_at: number
  credentials_at: number
  last_seen: number | null
  online: number
  last_client_id: string | null
  last_address: string | null
  last_disconnect_reason: string | null
  preset: string | null
}

const toDevice = (r: DeviceRow): Device => ({
  id: r.id,
  name: r.name,
  username: r.username,
  enabled: r.enabled === 1,
  createdAt: r.created_at,
  credentialsAt: r.credentials_at,
  lastSeen: r.last_seen,
  online: r.online === 1,
  lastClientId: r.last_client_id,
  lastAddress: r.last_address,
  lastDisconnectReason: r.last_disconnect_reason,
  preset: r.preset as PresetName | null,
})

function parseId(id: string): string {
  const parsed = deviceIdSchema.safeParse(id)
  if (!parsed.success)
    throw new DeviceError('invalid', `invalid device id "${id}": ${parsed.error.issues[0]?.message}`)
  return parsed.data
}

/**
 * Registers a device with a fresh random password; the password is returned once, never stored.
 * A preset grants its tool's topic trees as ACL rules of the device, in the same transaction.
 */
export async function createDevice(
  db: Database,
  input: { id: string; name?: string | undefined; preset?: PresetName | undefined },
  now = Date.now(),
): Promise<{ device: Device; credentials: DeviceCredentials }> {
  const id = parseId(input.id)
  const parsedName = deviceNameSchema.safeParse(input.name ?? id)
  if (!parsedName.success) throw new DeviceError('invalid', 'a device name is 1-200 characters')
  const name = parsedName.data
  if (getDevice(db, id)) throw new DeviceError('exists', `device "${id}" already exists`)
  const password = newDevicePassword()
  const hash = await hashDevicePassword(password)
  const preset = input.preset ?? null
  let row: DeviceRow
  try {
    row = db.transaction(() => {
      const inserted = db
        .query(
          `INSERT INTO devices (id, name, username, password_hash, created_at, credentials_at, preset)
           VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        )
        .get(id, name, id, hash, now, now, preset) as DeviceRow
      const grant = db.query(
        'INSERT INTO device_acl (device_id, pattern, access, created_at) VALUES (?, ?, ?, ?)',
      )
      for (const rule of preset ? presetRules(preset) : []) grant.run(id, rule.pattern, rule.access, now)
      return inserted
    })()
  } catch (err) {
    // Another process (CLI next to a running hub) may have won the race since the check above.
    if (/UNIQUE constraint/.test((err as Error).message))
      throw new DeviceError('exists', `device "${id}" already exists`)
    throw err
  }
  return { device: toDevice(row), credentials: { id, username: row.username, password } }
}

/**
 * Registers many devices at once, in one transaction, that authenticate only by a client
 * certificate whose CN is their id (`mqtt.tls.requireClientCert`): no password is issued, and no
 * password verifies against the empty hash stored (a rotate gives one a password later). Ids
 * already registered are skipped; returns the ids created.
 */
export function createCertificateDevices(
  db: Database,
  inputs: ReadonlyArray<{ id: string; name?: string | undefined }>,
  now = Date.now(),
): string[] {
  const insert = db.query(
    `INSERT INTO devices (id, name, username, password_hash, created_at, credentials_at)
     VALUES (?, ?, ?, '', ?, ?) ON CONFLICT DO NOTHING`,
  )
  const rows = inputs.map((input) => {
    const id = parseId(input.id)
    const name = deviceNameSchema.safeParse(input.name ?? id)
    if (!name.success) throw new DeviceError('invalid', 'a device name is 1-200 characters')
    return { id, name: name.data }
  })
  return db
    .transaction(() => rows.filter((r) => insert.run(r.id, r.name, r.id, now, now).changes > 0))()
    .map((r) => r.id)
}

export function getDevice(db: Database, id: string): Device | undefined {
  const row = db.query('SELECT * FROM devices WHERE id = ?').get(id) as DeviceRow | null
  return row ? toDevice(row) : undefined
}

export function listDevices(db: Database): Device[] {
  return (db.query('SELECT * FROM devices ORDER BY id').all() as DeviceRow[]).map(toDevice)
}

/** The stored hash and state of the device whose MQTT username this is. */
export function findDeviceSecret(db: Database, username: string): DeviceSecret | undefined {
  const row = db
    .query('SELECT id, enabled, password_hash, credentials_at FROM devices WHERE username = ?')
    .get(username) as Pick<DeviceRow, 'id' | 'enabled' | 'password_hash' | 'credentials_at'> | null
  return row
    ? {
        id: row.id,
        enabled: row.enabled === 1,
        passwordHash: row.password_hash,
        credentialsAt: row.credentials_at,
      }
    : undefined
}

/**
 * Replaces the password: the old one no longer connects. Live connections end through the broker,
 * which hears `device.rotated` (or notices the commit when another process rotated).
 */
export async function rotateDeviceCredentials(
  db: Database,
  id: string,
  now = Date.now(),
): Promise<DeviceCredentials> {
  const password = newDevicePassword()
  const hash = await hashDevicePassword(password)
  const row = db
    .query('UPDATE devices SET password_hash = ?, credentials_at = ? WHERE id = ? RETURNING username')
    .get(hash, now, id) as { username: string } | null
  if (!row) throw new DeviceError('not-found', `no device "${id}"`)
  return { id, username: row.username, password }
}

/** Removes the device and its ACL rules; false when there was none. */
export function removeDevice(db: Database, id: string): boolean {
  return db.query('DELETE FROM devices WHERE id = ?').run(id).changes > 0
}

export function renameDevice(db: Database, id: string, name: string): boolean {
  const parsed = deviceNameSchema.safeParse(name)
  if (!parsed.success) throw new DeviceError('invalid', 'a device name is 1-200 characters')
  return db.query('UPDATE devices SET name = ? WHERE id = ?').run(parsed.data, id).changes > 0
}

/** A disabled device keeps its credentials but is refused with CONNACK 5 (not authorized). */
export function setDeviceEnabled(db: Database, id: string, enabled: boolean): boolean {
  return db.query('UPDATE devices SET enabled = ? WHERE id = ?').run(enabled ? 1 : 0, id).changes > 0
}

/** Presence: the device has a live connection. */
export function markDeviceOnline(
  db: Database,
  id: string,
  at: { clientId: string; address: string | null },
  now = Date.now(),
): void {
  db.query(
    'UPDATE devices SET online = 1, last_seen = ?, last_client_id = ?, last_address = ? WHERE id = ?',
  ).run(now, at.clientId, at.address, id)
}

/** Presence: the device's last connection ended, and why. */
export function markDeviceOffline(db: Database, id: string, reason: string, now = Date.now()): void {
  db.query('UPDATE devices SET online = 0, last_seen = ?, last_disconnect_reason = ? WHERE id = ?').run(
    now,
    reason,
    id,
  )
}

/** Marks every device still flagged online as offline; returns their ids (stale flags after a crash). */
export function markAllDevicesOffline(db: Database, reason: string): string[] {
  const rows = db
    .query('UPDATE devices SET online = 0, last_disconnect_reason = ? WHERE online = 1 RETURNING id')
    .all(reason) as { id: string }[]
  return rows.map((r) => r.id).sort()
}
