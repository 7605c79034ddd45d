import { aedesPublisher } from '../actions/publish.ts'
import type { ActionRunner } from '../actions/runner.ts'
import { createAcl } from '../broker/acl.ts'
import { createAuth } from '../broker/auth.ts'
import { type Broker, createBroker } from '../broker/broker.ts'
import { createConformance } from '../broker/conformance.ts'
import { createDottedTopics } from '../broker/dotted.ts'
import type { BrokerPlugin } from '../broker/hooks.ts'
import { createLimits } from '../broker/limits.ts'
import { createSqlitePersistence } from '../broker/persistence/sqlite-persistence.ts'
import { createPresence, type Presence } from '../broker/presence.ts'
import { createSysStats, type SysStats } from '../broker/sys.ts'
import { createTcpListener, type TcpListener } from '../broker/tcp-listener.ts'
import { createTlsListener, type TlsListener } from '../broker/tls-listener.ts'
import { createDeviceFeatures, type DeviceFeatures } from '../devices/features.ts'
import { createHomeAssistantDiscovery, type HomeAssistantDiscovery } from '../homeassistant/discovery.ts'
import type { ConsoleChannel } from '../http/console/channel.ts'
import { createTelemetry, type Telemetry } from '../telemetry/telemetry.ts'
import { VERSION } from '../version.ts'
import type { Core, HubBasics } from './core.ts'

export interface BrokerDeps extends HubBasics, Pick<Core, 'requireAuth' | 'credentials'> {
  actions: ActionRunner
  consoleChannel: ConsoleChannel
}

export interface BrokerParts {
  broker: Broker
  sys: SysStats
  presence: Presence
  telemetry: Telemetry
  devices: DeviceFeatures
  /** Home Assistant MQTT discovery of the telemetry; undefined unless `homeAssistant.discovery`. */
  homeAssistant: HomeAssistantDiscovery | undefined
  tcp: TcpListener
  /** Undefined when no certificate is configured. */
  tls: TlsListener | undefined
}

/**
 * The MQTT broker with its plugins (policy, presence, $SYS, telemetry, device features,
 * persistence) and its TCP and TLS listeners. The WebSocket listener rides on the HTTP server.
 */
export function composeBroker(deps: BrokerDeps): BrokerParts {
  const { config, db, bus, log, now, actions, requireAuth, credentials } = deps
  const auth = createAuth({
    db,
    bus,
    log,
    allowAnonymous: config.mqtt.allowAnonymous,
    credentials,
    now,
  })
  const acl = createAcl({
    db,
    bus,
    log,
    identityOf: auth.identityOf,
    rules: config.mqtt.acl,
    anonymousRules: config.mqtt.anonymousAcl,
    disconnectOnDenied: config.mqtt.disconnectOnDenied,
    now,
  })
  const presence = createPresence({
    db,
    bus,
    log,
    deviceOf: auth.deviceOf,
    availabilityTopic: config.mqtt.availabilityTopic,
    now,
  })
  // Issue 3 points 6, 7, 9, 10: limits refuse cheaply first; dotted topics are rewritten to `/`
  // before conformance checks them; auth and the ACL then see only well-formed packets; $SYS
  // counts last, so only what was delivered.
  const m = config.mqtt
  const limits = createLimits({ log, ...m, now })
  const dotted = createDottedTopics({ log, all: m.dottedTopics, clients: m.dottedTopicsClients })
  const conformance = createConformance({ log, maxTopicLevels: m.maxTopicLevels })
  const dropped = () => limits.counters().droppedMessages
  const sys = createSysStats({ log, interval: m.sysInterval, version: VERSION, dropped, now })
  // Telemetry storage and MQTT extraction (issue 5 point 1); its writer also serves /ingest.
  const ha = config.homeAssistant
  const telemetry = createTelemetry({
    db,
    bus,
    log,
    config: config.telemetry,
    deviceOf: auth.deviceOf,
    ...(ha.discovery ? { ownTopics: [`${ha.stateTopicPrefix}/#`] } : {}),
    now,
  })
  const plugins: BrokerPlugin[] = [
    limits,
    dotted,
    conformance,
    auth,
    acl,
    presence,
    sys.plugin,
    telemetry.mqtt,
  ]
  // Groups, messaging, upstream and device state (issue 7); group members read groups/<id>/#.
  const devices = createDeviceFeatures({
    db,
    bus,
    log,
    config: config.devices,
    deviceOf: auth.deviceOf,
    acl,
    actions,
    requireAuth,
    now,
  })
  devices.registerConsole(deps.consoleChannel)
  plugins.push(...devices.plugins)
  // Retained messages, sessions, queues and wills in the hub's database (issue 3 point 2); its
  // plugin goes last so it journals only what every other plugin accepted.
  const mqttStore = createSqlitePersistence({ db, log })
  const broker = createBroker({
    log,
    plugins: [...plugins, mqttStore.plugin],
    aedes: { persistence: mqttStore, maxTopicLevels: m.maxTopicLevels },
  })
  // Home Assistant discovery publishes as the hub through the broker, like a rule's publish.
  const homeAssistant = ha.discovery
    ? createHomeAssistantDiscovery({
        db,
        bus,
        log,
        config: ha,
        publish: aedesPublisher(() => broker.aedes),
        series: () => telemetry.store.listSeries(),
        latest: (device) => telemetry.latest(device),
        availability: m.availabilityTopic,
        version: VERSION,
      })
    : undefined
  const tcp = createTcpListener({ broker, log, host: m.host, port: m.port })
  const { cert, key } = m.tls
  const tls =
    cert && key
      ? createTlsListener({
          broker,
          log,
          host: m.host,
          port: m.tls.port,
          cert,
          key,
          ca: m.tls.ca,
          requireClientCert: m.tls.requireClientCert,
        })
      : undefined
  return { broker, sys, presence, telemetry, devices, homeAssistant, tcp, tls }
}
