/**
 * MQTT topic and topic-filter matching for the ACL (issue 3 point 5). Kept apart from Aedes'
 * own matcher (qlobber) because the ACL needs one more question: whether every topic a
 * subscription filter can match is also matched by a rule's filter.
 */

/** A valid topic filter [MQTT-4.7.1-2, MQTT-4.7.1-3]: `#` only as the whole last level, `+` a whole level. */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000')) return false
  const levels = filter.split('/')
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return false
    if (level.includes('+') && level !== '+') return false
  }
  return true
}

/** Whether `filter` matches the concrete `topic` (no wildcards), [MQTT-4.7.1] and [MQTT-4.7.2-1]. */
export function topicMatches(filter: string, topic: string): boolean {
  // [MQTT-4.7.2-1] a filter starting with a wildcard does not match topics starting with `$`.
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!
    // [MQTT-4.7.1-2] `#` also matches the parent level: `a/#` matches `a`.
    if (level === '#') return true
    if (i >= t.length) return false
    if (level !== '+' && level !== t[i]) return false
  }
  return f.length === t.length
}

/**
 * Whether every topic that `sub` (a subscription filter, wildcards allowed) can match is also
 * matched by `rule`. A device allowed `devices/d1/#` may subscribe `devices/d1/+/x`, but not `#`
 * nor `devices/+/x`, which reach other devices' topics.
 */
export function filterCovers(rule: string, sub: string): boolean {
  // [MQTT-4.7.2-1] `+/…` and `#` never reach `$` topics; a literal `$SYS/…` needs a literal rule.
  if (sub.startsWith('$') && (rule.startsWith('+') || rule.startsWith('#'))) return false
  const r = rule.split('/')
  const s = sub.split('/')
  for (let i = 0; i < r.length; i++) {
    const level = r[i]!
    if (level === '#') return true
    if (i >= s.length) return false
    const want = s[i]!
    // A `#` in the subscription reaches any depth: only a rule `#` at the same place covers it.
    if (want === '#') return false
    if (level === '+') continue
    // A `+` in the subscription takes any value here: a literal rule level is narrower.
    if (want === '+' || want !== level) return false
  }
  // A longer subscription reaches levels the rule does not (`a/#` matches `a/b`, rule `a` does not).
  return s.length === r.length
}
