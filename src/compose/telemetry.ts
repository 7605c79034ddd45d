import { brokerPublisher } from '../actions/publish.ts'
import type { Broker } from '../broker/broker.ts'
import type { CredentialCache } from '../devices/credentials.ts'
import { createHomeAssistantDiscovery } from '../homeassistant/discovery.ts'
import type { RequireAuth } from '../http/auth/middleware.ts'
import { createIngestRoutes } from '../http/routes/ingest.ts'
import { createTelemetryRoutes } from '../http/routes/telemetry.ts'
import type { Client } from '../mqtt/types.ts'
import { createTelemetry, TELEMETRY_TRANSIENT_EVENTS, type Telemetry } from '../telemetry/telemetry.ts'
import { VERSION } from '../version.ts'
import { coreOf, type HubBasics, type HubModule } from './module.ts'

interface TelemetryModule extends HubModule {
  telemetry: Telemetry
}

interface TelemetryDeps extends HubBasics {
  requireAuth: RequireAuth
  credentials: CredentialCache
  /** The registered device an MQTT client authenticated as (the broker's auth). */
  deviceOf(client: Client): string | undefined
}

/** Telemetry storage and MQTT extraction (a broker plugin); its writer also serves `/ingest`. */
export function composeTelemetry(deps: TelemetryDeps): TelemetryModule {
  const { config, db, bus, now, requireAuth, credentials } = deps
  const ha = config.homeAssistant
  const telemetry = createTelemetry({
    ...coreOf(deps),
    config: config.telemetry,
    deviceOf: deps.deviceOf,
    // Home Assistant's state topics are the hub's own republished readings.
    ...(ha.discovery ? { ownTopics: [`${ha.stateTopicPrefix}/#`] } : {}),
  })
  return {
    name: 'telemetry',
    telemetry,
    services: telemetry.services,
    brokerPlugins: [telemetry.mqtt],
    api: [{ path: '/telemetry', router: createTelemetryRoutes({ telemetry, requireAuth, now }) }],
    routes: [
      {
        path: '/ingest',
        router: createIngestRoutes({ db, bus, writer: telemetry.writer, credentials, now }),
      },
    ],
    reload: [
      {
        keys: ['telemetry.mqtt'],
        apply(next) {
          telemetry.mqtt.setRules(next.telemetry.mqtt)
          return undefined
        },
      },
    ],
    transientEvents: TELEMETRY_TRANSIENT_EVENTS,
  }
}

/** Home Assistant MQTT discovery of the telemetry; no services unless `homeAssistant.discovery`. */
export function composeHomeAssistant(deps: HubBasics & { broker: Broker; telemetry: Telemetry }): HubModule {
  const { config, db, bus, log, broker, telemetry } = deps
  const ha = config.homeAssistant
  if (!ha.discovery) return { name: 'homeassistant' }
  // Discovery publishes as the hub through the broker, like a rule's publish.
  const discovery = createHomeAssistantDiscovery({
    db,
    bus,
    log,
    config: ha,
    publish: brokerPublisher(broker),
    series: () => telemetry.store.listSeries(),
    latest: (device) => telemetry.latest(device),
    availability: config.mqtt.availabilityTopic,
    version: VERSION,
  })
  return { name: 'homeassistant', services: [discovery] }
}
