import { firstLevelReaches } from '../util/topic.ts'

// Topic names and filters [MQTT-4.7].

/** A topic name a PUBLISH may carry: no wildcards [MQTT-3.3.2-2], not empty [MQTT-4.7.3-1]. */
export function validTopicName(topic: string, maxLevels: number): boolean {
  if (topic.length === 0) return false
  let levels = 1
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i)
    if (c === 0x2b || c === 0x23 || c === 0) return false
    if (c === 0x2f) levels++
  }
  return levels <= maxLevels
}

/** A filter's parts: the shared group (when `$share/<group>/…`) and the filter matched. */
export interface ParsedFilter {
  group: string | undefined
  filter: string
}

/**
 * Checks a topic filter: `#` only last and alone in its level [MQTT-4.7.1-2], `+` alone in its
 * level [MQTT-4.7.1-3], a shared group non-empty and without wildcards [MQTT-4.8.2-1], [MQTT-4.8.2-2].
 */
export function parseFilter(raw: string, maxLevels: number): ParsedFilter | undefined {
  let group: string | undefined
  let filter = raw
  if (raw.startsWith('$share/')) {
    const slash = raw.indexOf('/', 7)
    if (slash < 0) return undefined
    group = raw.slice(7, slash)
    filter = raw.slice(slash + 1)
    if (group.length === 0 || group.includes('+') || group.includes('#')) return undefined
  }
  if (!isValidFilter(filter) || levelCount(filter) > maxLevels) return undefined
  return { group, filter }
}

/**
 * A well-formed topic filter: not empty, no U+0000 [MQTT-1.5.4-2], `#` alone and last
 * [MQTT-4.7.1-2], `+` alone in its level [MQTT-4.7.1-3].
 */
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

function levelCount(topic: string): number {
  let n = 1
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 0x2f) n++
  return n
}

/** Whether `topic` matches `filter` (a plain filter, no `$share/`), by the rules of [MQTT-4.7]. */
export function topicMatches(filter: string, topic: string): boolean {
  // [MQTT-4.7.2-1] a filter starting with a wildcard does not match a topic starting with `$`
  if (!firstLevelReaches(filter, topic)) return false
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!
    // [MQTT-4.7.1-2] `#` also matches the parent level
    if (level === '#') return true
    if (i >= t.length) return false
    if (level !== '+' && level !== t[i]) return false
  }
  return f.length === t.length
}
