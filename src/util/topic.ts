/** Whether a topic belongs to the server (`$SYS/…`): the hub never publishes to one on anyone's behalf. */
export function isServerTopic(topic: string): boolean {
  return topic.charCodeAt(0) === 0x24
}

/**
 * Whether `filter` may reach `topic` at its first level: [MQTT-4.7.2-1] a filter starting with a
 * wildcard does not match a topic starting with `$`; a `$` topic needs a literal first level.
 */
export function firstLevelReaches(filter: string, topic: string): boolean {
  if (!isServerTopic(topic)) return true
  const first = filter.charCodeAt(0)
  return first !== 0x2b && first !== 0x23
}

/** Whether a concrete topic may be published to by the hub: no wildcard, no NUL, not a `$` topic. */
export function isPublishableTopic(topic: string): boolean {
  return topic.length > 0 && !/[+#\0]/.test(topic) && !isServerTopic(topic)
}
