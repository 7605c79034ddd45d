import { firstLevelReaches } from '../util/topic.ts'

/**
 * Topic filters for the ACL: matching and validity are the engine's (one set of rules for the
 * broker and its policy); the ACL needs one more question, whether every topic a subscription
 * filter can match is also matched by a rule's filter.
 */
export { isValidFilter, topicMatches } from '../mqtt/topics.ts'

/**
 * Whether every topic that `sub` (a subscription filter, wildcards allowed) can match is also
 * matched by `rule`. A device allowed `devices/d1/#` may subscribe `devices/d1/+/x`, but not `#`
 * nor `devices/+/x`, which reach other devices' topics.
 */
export function filterCovers(rule: string, sub: string): boolean {
  // [MQTT-4.7.2-1] `+/…` and `#` never reach `$` topics; a literal `$SYS/…` needs a literal rule.
  if (!firstLevelReaches(rule, sub)) return false
  // The rule of anonymous clients in most setups: covers every other filter, nothing to split.
  if (rule === '#') return true
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
