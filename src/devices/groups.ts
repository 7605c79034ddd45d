import type { Database } from 'bun:sqlite'
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import type { GroupAddResult, GroupCreateResult, GroupSubtractResult } from '../bus/payloads.ts'
import type { DeviceGroupInfo } from './schema.ts'

/** At most this many devices in one create, add, subtract or multicast. */
export const MAX_DEVICES_PER_CALL = 2000

/** A group id is a topic level of `groups/<groupId>/#`, so it holds no separator or wildcard. */
export const groupIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'a group id is 1-64 letters, digits, "-" or "_"')

/** A list of device ids as a call takes it: 1 to 2,000 (unknown ones come back in failedDevices). */
export const deviceListSchema = z.array(z.string().min(1).max(64)).max(MAX_DEVICES_PER_CALL)

interface GroupRow {
  id: string
  name: string
  description: string | null
  created_at: number
  updated_at: number
  size: number
}

const toGroup = (r: GroupRow): DeviceGroupInfo => ({
  groupId: r.id,
  name: r.name,
  description: r.description,
  deviceSize: r.size,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

const SELECT_GROUP = `SELECT g.*, (SELECT count(*) FROM device_group_members m WHERE m.group_id = g.id) AS size
  FROM device_groups g`

const newGroupId = () => `grp-${randomBytes(6).toString('hex')}`

/** Splits ids into registered devices and the rest (the source platform's `failedDevices`), each once. */
export function partitionDevices(
  db: Database,
  ids: readonly string[],
): { known: string[]; unknown: string[] } {
  const unique = [...new Set(ids)]
  if (unique.length === 0) return { known: [], unknown: [] }
  const found = new Set(
    (
      db
        .query('SELECT id FROM devices WHERE id IN (SELECT value FROM json_each(?))')
        .all(JSON.stringify(unique)) as { id: string }[]
    ).map((r) => r.id),
  )
  return { known: unique.filter((id) => found.has(id)), unknown: unique.filter((id) => !found.has(id)) }
}

const insertMembers = (db: Database, groupId: string, ids: string[], now: number): number =>
  db
    .query(
      `INSERT OR IGNORE INTO device_group_members (group_id, device_id, added_at)
       SELECT ?, value, ? FROM json_each(?)`,
    )
    .run(groupId, now, JSON.stringify(ids)).changes

const sizeOf = (db: Database, groupId: string): number =>
  (
    db.query('SELECT count(*) AS n FROM device_group_members WHERE group_id = ?').get(groupId) as {
      n: number
    }
  ).n

const touch = (db: Database, groupId: string, now: number) =>
  db.query('UPDATE device_groups SET updated_at = ? WHERE id = ?').run(now, groupId)

/** Creates a group with the registered devices among `devices`. */
export function createGroup(
  db: Database,
  input: { name: string; description?: string | null | undefined; devices?: readonly string[] | undefined },
  now = Date.now(),
): GroupCreateResult {
  const { known, unknown } = partitionDevices(db, input.devices ?? [])
  const groupId = newGroupId()
  db.transaction(() => {
    db.query(
      'INSERT INTO device_groups (id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    ).run(groupId, input.name, input.description ?? null, now, now)
    insertMembers(db, groupId, known, now)
  })()
  return { groupId, deviceSize: known.length, failedDevices: unknown }
}

/** Adds devices; undefined when there is no such group. Devices already in it are not counted again. */
export function addToGroup(
  db: Database,
  groupId: string,
  devices: readonly string[],
  now = Date.now(),
): GroupAddResult | undefined {
  const r = changeMembers(db, groupId, devices, now, (known) => insertMembers(db, groupId, known, now))
  return r && { groupId, totalDeviceSize: r.size, addedDeviceSize: r.changed, failedDevices: r.unknown }
}

/** Removes devices; undefined when there is no such group. A registered non-member is simply not removed. */
export function subtractFromGroup(
  db: Database,
  groupId: string,
  devices: readonly string[],
  now = Date.now(),
): GroupSubtractResult | undefined {
  const r = changeMembers(
    db,
    groupId,
    devices,
    now,
    (known) =>
      db
        .query(
          'DELETE FROM device_group_members WHERE group_id = ? AND device_id IN (SELECT value FROM json_each(?))',
        )
        .run(groupId, JSON.stringify(known)).changes,
  )
  return r && { groupId, totalDeviceSize: r.size, removedDeviceSize: r.changed, failedDevices: r.unknown }
}

/**
 * One membership change in one transaction: `change` gets the registered devices among `devices`
 * and says how many rows it changed; the group is touched when any did. Undefined when there is no
 * such group.
 */
function changeMembers(
  db: Database,
  groupId: string,
  devices: readonly string[],
  now: number,
  change: (known: string[]) => number,
): { changed: number; size: number; unknown: string[] } | undefined {
  return db.transaction(() => {
    if (!groupExists(db, groupId)) return undefined
    const { known, unknown } = partitionDevices(db, devices)
    const changed = change(known)
    if (changed) touch(db, groupId, now)
    return { changed, size: sizeOf(db, groupId), unknown }
  })()
}

/** False when there was no such group. Its memberships go with it. */
export function deleteGroup(db: Database, groupId: string): boolean {
  return db.query('DELETE FROM device_groups WHERE id = ?').run(groupId).changes > 0
}

export function groupExists(db: Database, groupId: string): boolean {
  return db.query('SELECT 1 FROM device_groups WHERE id = ?').get(groupId) !== null
}

export function listGroups(db: Database): DeviceGroupInfo[] {
  return (db.query(`${SELECT_GROUP} ORDER BY g.created_at, g.id`).all() as GroupRow[]).map(toGroup)
}

/** A group with its member ids, or undefined. */
export function getGroup(
  db: Database,
  groupId: string,
): (DeviceGroupInfo & { devices: string[] }) | undefined {
  const row = db.query(`${SELECT_GROUP} WHERE g.id = ?`).get(groupId) as GroupRow | null
  return row ? { ...toGroup(row), devices: groupMembers(db, groupId) } : undefined
}

export function groupMembers(db: Database, groupId: string): string[] {
  return (
    db
      .query('SELECT device_id FROM device_group_members WHERE group_id = ? ORDER BY device_id')
      .all(groupId) as { device_id: string }[]
  ).map((r) => r.device_id)
}

/** The groups a device belongs to (its ACL reads `groups/<groupId>/#` of each). */
export function groupsOfDevice(db: Database, deviceId: string): string[] {
  return (
    db
      .query('SELECT group_id FROM device_group_members WHERE device_id = ? ORDER BY group_id')
      .all(deviceId) as { group_id: string }[]
  ).map((r) => r.group_id)
}
