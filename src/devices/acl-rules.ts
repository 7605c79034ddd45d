import type { Database } from 'bun:sqlite'
import { z } from 'zod'
import { aclRuleSchema } from '../broker/config.ts'
import { isValidFilter } from '../broker/topic-filter.ts'
import { DeviceError } from './registry.ts'

/** A device's own rules grant access; denials are configured for every device (`mqtt.acl`). */
const deviceAclRuleSchema = aclRuleSchema.extend({ access: z.enum(['read', 'write', 'readwrite']) })
export type DeviceAclRule = z.infer<typeof deviceAclRuleSchema>

/** Per-device ACL rules, added to the default `devices/%u/#` and `mqtt.acl`. */
export function listDeviceAclRules(db: Database, deviceId: string): DeviceAclRule[] {
  return db
    .query('SELECT pattern, access FROM device_acl WHERE device_id = ? ORDER BY pattern')
    .all(deviceId) as DeviceAclRule[]
}

/** Adds a rule, or changes the access of the device's rule with the same pattern. */
export function setDeviceAclRule(
  db: Database,
  deviceId: string,
  input: DeviceAclRule,
  now = Date.now(),
): DeviceAclRule {
  const rule = deviceAclRuleSchema.parse(input)
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
