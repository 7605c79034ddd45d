import type { EngineLimits } from '../mqtt/types.ts'
import type { MqttConfig } from './config.ts'

/**
 * The `[mqtt]` limits a reload applies at once through `engineLimits`; a connection keeps the
 * inbound rates it started with, and `maxTopicLevels` waits for a restart.
 */
export const LIMIT_KEYS = [
  'maxPacketSize',
  'maxConnections',
  'connectRatePerAddress',
  'inboundMessagesPerSecond',
  'inboundBytesPerSecond',
  'maxQueuedBytesPerClient',
  'connectTimeout',
  'maxPendingConnectionsPerAddress',
  'maxQueuedMessages',
  'maxQueuedBytes',
  'receiveMaximum',
  'topicAliasMaximum',
  'serverKeepAlive',
  'maxSessionExpiry',
] as const satisfies ReadonlyArray<keyof MqttConfig>

/**
 * The engine's limits from `mqtt.*` (docs/mqtt-limits.md): no client can take the hub down by
 * packet size, inbound rate, an unread outgoing buffer, a queue that grows while it is offline,
 * connection count, connect rate or sockets that never say CONNECT.
 */
export function engineLimits(m: MqttConfig): EngineLimits {
  return {
    maxPacketSize: m.maxPacketSize,
    maxConnections: m.maxConnections,
    connectTimeoutMs: m.connectTimeout,
    maxPendingConnectionsPerAddress: m.maxPendingConnectionsPerAddress,
    connectRatePerAddress: m.connectRatePerAddress,
    inboundMessagesPerSecond: m.inboundMessagesPerSecond,
    inboundBytesPerSecond: m.inboundBytesPerSecond,
    maxQueuedMessages: m.maxQueuedMessages,
    maxQueuedBytes: m.maxQueuedBytes,
    maxOutgoingBytes: m.maxQueuedBytesPerClient,
    receiveMaximum: m.receiveMaximum,
    topicAliasMaximum: m.topicAliasMaximum,
    maxTopicLevels: m.maxTopicLevels,
    serverKeepAlive: m.serverKeepAlive,
    maxSessionExpiryInterval: m.maxSessionExpiry,
  }
}
