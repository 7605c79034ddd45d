import type { Database } from 'bun:sqlite'
import { isValidFilter } from '../broker/topic-filter.ts'
import { type AclRule, aclRuleSchema } from '../config/schema.ts'
import { DeviceError } from './registry.ts'

/** Per-device ACL rules (issue 3 point 5), added to the default `devices/%u/#` and `mqtt.acl`. */
export function listDeviceAclRules(db: Database, deviceId: string): AclRule[] {
  return db
    .query('SELECT pattern, access FROM device_acl WHERE device_id = ? ORDER BY pattern')
    .all(deviceId) as AclRule[]
}

/** Adds a rule, or changes the access of the device's rule with the same pattern. */
export function setDeviceAclRule(db: Database, deviceId: string, input: AclRule, now = Date.now()): AclRule {
  const rule = aclRuleSchema.parse(input)
  // %u and %c stand for one whole level once replaced, so they validate as a literal level.
  if (!isValidFilter(rule.pattern.replaceAll('%u', 'u').replaceAll('%c', 'c')))
    throw new DeviceError('invalid', `"${rule.pattern}" is not a valid MQTT topic filter`)
  try {
    db.query(
      `INSERT INTO device_acl (device_id, pattern, access, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (device_id, pattern) DO UPDATE SET access = excluded.access`,
    ).run(deviceId, rule.pattern, rule.access, now)
  } catch (err) {
    if (/FOREIGN KEY constraint/.test((err as Error).message))
      throw new DeviceError('not-found', `no device "${deviceId}"`)
    throw err
  }
  return rule
}

/** False when the device had no rule with this pattern. */
export function removeDeviceAclRule(db: Database, deviceId: string, pattern: string): boolean {
  return (
    db.query('DELETE FROM device_acl WHERE device_id = ? AND pattern = ?').run(deviceId, pattern).changes > 0
  )
}
