import { brokerPublisher } from '../actions/publish.ts'
import type { ActionRunner } from '../actions/runner.ts'
import { createAcl } from '../broker/acl.ts'
import { createAuth } from '../broker/auth.ts'
import { type Broker, createBroker } from '../broker/broker.ts'
import { createDottedTopics } from '../broker/dotted.ts'
import type { BrokerPlugin } from '../broker/hooks.ts'
import { engineLimits, LIMIT_KEYS } from '../broker/limits.ts'
import { createPresence, type Presence } from '../broker/presence.ts'
import { createSysStats, type SysStats } from '../broker/sys.ts'
import {
  createTcpListener,
  createTlsListener,
  type TcpListener,
  type TlsListener,
} from '../broker/tcp-listener.ts'
import { deviceDirectory } from '../devices/directory.ts'
import { createDeviceFeatures, type DeviceFeatures } from '../devices/features.ts'
import { createHomeAssistantDiscovery, type HomeAssistantDiscovery } from '../homeassistant/discovery.ts'
import type { ConsoleChannel } from '../http/console/channel.ts'
import { createSqliteEngineStore } from '../store/mqtt/sqlite-store.ts'
import { createTelemetry, type Telemetry } from '../telemetry/telemetry.ts'
import { VERSION } from '../version.ts'
import type { Core, HubBasics } from './core.ts'
import type { ReloadStep } from './reload.ts'

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
  /** What a config reload can change of the broker: policy, limits, mappings and the certificate. */
  reload: ReloadStep[]
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
    devices: deviceDirectory,
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
    devices: deviceDirectory,
    now,
  })
  const presence = createPresence({
    db,
    bus,
    log,
    deviceOf: auth.deviceOf,
    availabilityTopic: config.mqtt.availabilityTopic,
    devices: deviceDirectory,
    now,
  })
  // Dotted topics are rewritten to `/` before anything else sees them; auth and the ACL then
  // see only well-formed packets (the engine checks those); $SYS answers new subscribers.
  const m = config.mqtt
  const dotted = createDottedTopics({ log, all: m.dottedTopics, clients: m.dottedTopicsClients })
  const sys = createSysStats({ log, interval: m.sysInterval, version: VERSION, now })
  // Telemetry storage and MQTT extraction; its writer also serves /ingest.
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
  const overflow: BrokerPlugin = {
    name: 'queue-overflow',
    // Once per episode: the engine calls it when a session's queue starts dropping.
    queueOverflow(clientId, dropped) {
      log.warn('session queue full: new messages are dropped', { clientId })
      bus.emit('mqtt.queue_overflow', { clientId, dropped }, { subject: clientId })
    },
  }
  const plugins: BrokerPlugin[] = [dotted, auth, acl, presence, sys.plugin, telemetry.mqtt, overflow]
  // Groups, messaging, upstream and device state; group members read groups/<id>/#.
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
  // Retained messages, sessions, queues and wills in the hub's database.
  const broker = createBroker({
    log,
    plugins,
    store: createSqliteEngineStore({ db, log }),
    limits: engineLimits(m),
    now,
  })
  // Home Assistant discovery publishes as the hub through the broker, like a rule's publish.
  const homeAssistant = ha.discovery
    ? createHomeAssistantDiscovery({
        db,
        bus,
        log,
        config: ha,
        publish: brokerPublisher(broker),
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
  const reload: ReloadStep[] = [
    {
      keys: ['mqtt.acl', 'mqtt.anonymousAcl', 'mqtt.disconnectOnDenied', 'mqtt.allowAnonymous'],
      apply(next) {
        acl.setRules(next.mqtt.acl, next.mqtt.anonymousAcl)
        acl.setDisconnectOnDenied(next.mqtt.disconnectOnDenied)
        auth.setAllowAnonymous(next.mqtt.allowAnonymous)
        return undefined
      },
    },
    {
      keys: LIMIT_KEYS.map((k) => `mqtt.${k}`),
      apply(next) {
        broker.setLimits(engineLimits(next.mqtt))
        return undefined
      },
    },
    {
      keys: ['telemetry.mqtt'],
      apply(next) {
        telemetry.mqtt.setRules(next.telemetry.mqtt)
        return undefined
      },
    },
  ]
  if (tls) reload.push(tlsReloadStep(tls))
  return { broker, sys, presence, telemetry, devices, homeAssistant, tcp, tls, reload }
}

/**
 * The certificate files are read on every reload: a renewed certificate usually keeps its path.
 * Turning TLS off (or on) changes the listeners, which needs a restart.
 */
function tlsReloadStep(tls: TlsListener): ReloadStep {
  return {
    keys: ['mqtt.tls.cert', 'mqtt.tls.key', 'mqtt.tls.ca'],
    always: true,
    canFail: true,
    apply(next, changed) {
      const { cert, key, ca } = next.mqtt.tls
      if (!cert || !key) return { needsRestart: changed }
      const renewed = tls.reloadCertificate({ cert, key, ca })
      return renewed && !changed.length ? { applied: ['mqtt.tls.cert'] } : undefined
    },
  }
}
