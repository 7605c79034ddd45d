import type { Database } from 'bun:sqlite'
import type { JsonObject } from '../bus/payloads.ts'
import type { DeviceStateView } from './schema.ts'

export const isObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** Applies a patch as device shadows do: objects merge key by key, `null` removes a key, anything else replaces. */
export function mergeState(base: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...base }
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else if (isObject(v)) {
      const merged = mergeState(isObject(out[k]) ? (out[k] as JsonObject) : {}, v)
      if (Object.keys(merged).length) out[k] = merged
      else delete out[k]
    } else out[k] = v
  }
  return out
}

/** The desired keys (nested objects key by key) whose reported value differs. */
export function stateDelta(desired: JsonObject, reported: JsonObject): JsonObject {
  const out: JsonObject = {}
  for (const [k, want] of Object.entries(desired)) {
    const have = reported[k]
    if (isObject(want) && isObject(have)) {
      const inner = stateDelta(want, have)
      if (Object.keys(inner).length) out[k] = inner
    } else if (!sameValue(want, have)) out[k] = want
  }
  return out
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length) return false
  return ka.every((k) => sameValue((a as JsonObject)[k], (b as JsonObject)[k]))
}

interface StateRow {
  device_id: string
  reported: string
  reported_version: number
  reported_at: number | null
  desired: string
  desired_version: number
  desired_at: number | null
  pending: number
  sent_at: number | null
  deadline: number | null
  timed_out_at: number | null
}

/** The state of a registered device; an empty one (versions 0) when nothing was reported or desired yet. */
export function readState(db: Database, deviceId: string): DeviceStateView {
  const row = db.query('SELECT * FROM device_state WHERE device_id = ?').get(deviceId) as StateRow | null
  if (!row)
    return {
      deviceId,
      reported: {},
      reportedVersion: 0,
      reportedAt: null,
      desired: {},
      desiredVersion: 0,
      desiredAt: null,
      delta: {},
      pending: false,
      sentAt: null,
      deadline: null,
      timedOutAt: null,
    }
  const reported = JSON.parse(row.reported) as JsonObject
  const desired = JSON.parse(row.desired) as JsonObject
  return {
    deviceId,
    reported,
    reportedVersion: row.reported_version,
    reportedAt: row.reported_at,
    desired,
    desiredVersion: row.desired_version,
    desiredAt: row.desired_at,
    delta: stateDelta(desired, reported),
    pending: row.pending === 1,
    sentAt: row.sent_at,
    deadline: row.deadline,
    timedOutAt: row.timed_out_at,
  }
}

/** Writes a whole state row (the caller read it in the same transaction). */
export function writeState(db: Database, s: DeviceStateView): void {
  db.query(
    `INSERT INTO device_state (device_id, reported, reported_version, reported_at, desired, desired_version,
       desired_at, pending, sent_at, deadline, timed_out_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
     ON CONFLICT (device_id) DO UPDATE SET reported = ?2, reported_version = ?3, reported_at = ?4,
       desired = ?5, desired_version = ?6, desired_at = ?7, pending = ?8, sent_at = ?9, deadline = ?10,
       timed_out_at = ?11`,
  ).run(
    s.deviceId,
    JSON.stringify(s.reported),
    s.reportedVersion,
    s.reportedAt,
    JSON.stringify(s.desired),
    s.desiredVersion,
    s.desiredAt,
    s.pending ? 1 : 0,
    s.sentAt,
    s.deadline,
    s.timedOutAt,
  )
}

/** Pending states whose deadline passed and that were not reported as timed out yet. */
export function overdue(db: Database, now: number): string[] {
  return (
    db
      .query(
        'SELECT device_id FROM device_state WHERE pending = 1 AND timed_out_at IS NULL AND deadline <= ? ORDER BY deadline',
      )
      .all(now) as { device_id: string }[]
  ).map((r) => r.device_id)
}

export function nextDeadline(db: Database): number | undefined {
  const row = db
    .query(
      'SELECT deadline FROM device_state WHERE pending = 1 AND timed_out_at IS NULL AND deadline IS NOT NULL ORDER BY deadline LIMIT 1',
    )
    .get() as { deadline: number } | null
  return row?.deadline
}
