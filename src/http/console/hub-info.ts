import type { Config } from '../../config/schema.ts'
import { VERSION } from '../../version.ts'
import type { ConsoleHubInfo } from './frames.ts'

/** What the console's snapshot says about the hub: ports and per-device topics, for its snippets. */
export function consoleHubInfo(
  config: Config,
  ports: { mqtt: number; mqttTls: number | undefined },
): ConsoleHubInfo {
  const ws = config.mqtt.websocket
  return {
    version: VERSION,
    mqttPort: ports.mqtt,
    mqttTlsPort: ports.mqttTls ?? null,
    mqttWsPath: ws.enabled ? ws.path : null,
    topics: {
      inbox: config.devices.inboxTopic,
      outbox: config.devices.outboxTopic,
      state: config.devices.stateTopic,
      set: config.devices.setTopic,
    },
  }
}
