import type { AclRule } from '../broker/config.ts'
import type { DevicesConfig } from './config.ts'

/** One configured per-device topic (`devices/%u/inbox`): build it for a device, or read the device back. */
export interface DeviceTopic {
  readonly pattern: string
  of(deviceId: string): string
  /** The device id in `topic` when it has this shape, else undefined. */
  deviceIn(topic: string): string | undefined
}

function deviceTopic(pattern: string): DeviceTopic {
  const levels = pattern.split('/')
  const at = levels.indexOf('%u')
  return {
    pattern,
    of: (deviceId) => pattern.replace('%u', () => deviceId),
    deviceIn(topic) {
      // Level by level without splitting: the broker asks this of every PUBLISH.
      let start = 0
      let id: string | undefined
      for (let i = 0; i < levels.length; i++) {
        if (start > topic.length) return undefined
        let end = topic.indexOf('/', start)
        if (end < 0) end = topic.length
        const level = levels[i]!
        if (i === at) id = topic.slice(start, end)
        else if (end - start !== level.length || !topic.startsWith(level, start)) return undefined
        start = end + 1
      }
      // More levels than the pattern has.
      if (start <= topic.length) return undefined
      return id ? id : undefined
    },
  }
}

/** The four per-device topics of messaging, upstream and state (docs/groups-messaging.md). */
export interface DeviceTopics {
  inbox: DeviceTopic
  outbox: DeviceTopic
  state: DeviceTopic
  set: DeviceTopic
}

export function deviceTopics(config: DevicesConfig): DeviceTopics {
  return {
    inbox: deviceTopic(config.inboxTopic),
    outbox: deviceTopic(config.outboxTopic),
    state: deviceTopic(config.stateTopic),
    set: deviceTopic(config.setTopic),
  }
}

/**
 * What a device may do on its own messaging topics. The default `devices/%u/#` already covers the
 * default topics; these keep a configured topic outside that subtree usable.
 */
export function messagingAclRules(topics: DeviceTopics): AclRule[] {
  return [
    { pattern: topics.inbox.pattern, access: 'read' },
    { pattern: topics.set.pattern, access: 'read' },
    { pattern: topics.outbox.pattern, access: 'write' },
    { pattern: topics.state.pattern, access: 'write' },
  ]
}
