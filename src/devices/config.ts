import { z } from 'zod'
import { duration } from '../util/duration.ts'
import { isServerTopic } from '../util/topic.ts'

/**
 * A per-device topic: `%u` (the device id) as one whole level, no wildcards, not under `$`,
 * the same placeholder the ACL rules use.
 */
const deviceTopicPattern = () =>
  z
    .string()
    .min(3)
    .refine((p) => {
      const levels = p.split('/')
      return (
        levels.filter((l) => l === '%u').length === 1 &&
        levels.every((l) => l === '%u' || !/[%+#\0]/.test(l)) &&
        !isServerTopic(p)
      )
    }, 'a topic with %u as one whole level and no wildcards, e.g. devices/%u/inbox')

/** `[devices]`: topics and timings of groups, messaging and device state. */
export const devicesConfigSchema = z.strictObject({
  inboxTopic: deviceTopicPattern()
    .default('devices/%u/inbox')
    .describe('where a device receives messages (QoS 1); %u = device id'),
  outboxTopic: deviceTopicPattern()
    .default('devices/%u/outbox')
    .describe('where a device sends upstream messages; each becomes a device.upstream event'),
  stateTopic: deviceTopicPattern()
    .default('devices/%u/state')
    .describe('where a device publishes its reported state (a JSON object)'),
  setTopic: deviceTopicPattern()
    .default('devices/%u/set')
    .describe('where the hub publishes the desired state a device has not reached yet'),
  messageTtl: duration()
    .default(3 * 86_400_000)
    .describe('how long a message waits for an offline device before it expires'),
  messageRetention: duration()
    .default(30 * 86_400_000)
    .describe('how long a message and its per-device statuses are kept after it expires'),
  convergenceTimeout: duration()
    .default(30_000)
    .describe('how long a device may take to report a desired state before device.convergence_timeout'),
})

export type DevicesConfig = z.infer<typeof devicesConfigSchema>
