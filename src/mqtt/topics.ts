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
interface ParsedFilter {
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
  // Level by level on indexes, without splitting: the ACL checks every PUBLISH with it.
  let f = 0
  let t = 0
  const fl = filter.length
  const tl = topic.length
  while (true) {
    const fEnd = levelEnd(filter, f)
    const tEnd = levelEnd(topic, t)
    // [MQTT-4.7.1-2] `#` matches the level and every level below, the parent level too
    if (fEnd - f === 1 && filter.charCodeAt(f) === 0x23) return true
    if (t > tl) return false
    const plus = fEnd - f === 1 && filter.charCodeAt(f) === 0x2b
    if (!plus && (fEnd - f !== tEnd - t || !sameLevel(filter, f, topic, t, fEnd - f))) return false
    if (fEnd >= fl) return tEnd >= tl
    f = fEnd + 1
    t = tEnd + 1
  }
}

function levelEnd(s: string, from: number): number {
  const i = s.indexOf('/', from)
  return i < 0 ? s.length : i
}

function sameLevel(a: string, ai: number, b: string, bi: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a.charCodeAt(ai + i) !== b.charCodeAt(bi + i)) return false
  return true
}
