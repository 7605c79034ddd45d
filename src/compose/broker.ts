import { type Acl, createAcl } from '../broker/acl.ts'
import { type Auth, createAuth } from '../broker/auth.ts'
import { type Broker, createBroker } from '../broker/broker.ts'
import { createDeviceAccess } from '../broker/device-access.ts'
import { createDottedTopics } from '../broker/dotted.ts'
import type { BrokerPlugin } from '../broker/hooks.ts'
import { engineLimits, LIMIT_KEYS } from '../broker/limits.ts'
import { createPresence, type Presence } from '../broker/presence.ts'
import { createSysStats, type SysStats } from '../broker/sys.ts'
import type { CredentialCache } from '../devices/credentials.ts'
import { deviceDirectory } from '../devices/directory.ts'
import { type Metrics, registerHubMetrics } from '../http/metrics.ts'
import { createSqliteEngineStore } from '../store/mqtt/sqlite-store.ts'
import { VERSION } from '../version.ts'
import { coreOf, type HubBasics, type HubModule } from './module.ts'

/** The hub's policy on the engine, built before the modules that plug into the broker. */
interface BrokerPolicy {
  auth: Auth
  acl: Acl
  presence: Presence
  sys: SysStats
  /** In hook order: dotted topics are rewritten to `/` before anything else sees them. */
  plugins: BrokerPlugin[]
}

/** Auth, the ACL, presence, dotted topics, $SYS and the queue-overflow notice. */
export function composeBrokerPolicy(deps: HubBasics & { credentials: CredentialCache }): BrokerPolicy {
  const { config, db, bus, log, now, credentials } = deps
  const core = coreOf(deps)
  const m = config.mqtt
  const auth = createAuth({
    ...core,
    allowAnonymous: m.allowAnonymous,
    devices: deviceDirectory,
    credentials,
  })
  const acl = createAcl({
    ...core,
    identityOf: auth.identityOf,
    rules: m.acl,
    anonymousRules: m.anonymousAcl,
    disconnectOnDenied: m.disconnectOnDenied,
    devices: deviceDirectory,
  })
  const presence = createPresence({
    ...core,
    deviceOf: auth.deviceOf,
    availabilityTopic: m.availabilityTopic,
    devices: deviceDirectory,
  })
  // Auth and the ACL then see only well-formed packets (the engine checks those); $SYS answers
  // new subscribers.
  const dotted = createDottedTopics({ log, all: m.dottedTopics, clients: m.dottedTopicsClients })
  const sys = createSysStats({ log, interval: m.sysInterval, version: VERSION, now })
  const overflow: BrokerPlugin = {
    name: 'queue-overflow',
    // Once per episode: the engine calls it when a session's queue starts dropping.
    queueOverflow(clientId, dropped) {
      log.warn('session queue full: new messages are dropped', { clientId })
      bus.emit('mqtt.queue_overflow', { clientId, dropped }, { subject: clientId })
    },
  }
  // After presence: it asks presence which connections a revoked device still has.
  const access = createDeviceAccess({
    db,
    bus,
    log,
    credentials,
    identityOf: auth.identityOf,
    clientsOf: presence.clientsOf,
  })
  return { auth, acl, presence, sys, plugins: [dotted, auth, acl, presence, access, sys.plugin, overflow] }
}

interface BrokerModule extends HubModule {
  broker: Broker
  sys: SysStats
}

interface BrokerDeps extends HubBasics {
  policy: BrokerPolicy
  /** Other modules' hooks, after the policy's. */
  plugins: readonly BrokerPlugin[]
  metrics: Metrics
}

/**
 * The MQTT broker with its plugins and, in the hub's database, its retained messages, sessions,
 * queues and wills. The listeners are a module of their own, started once every consumer runs.
 */
export function composeBroker({ config, db, log, now, policy, plugins, metrics }: BrokerDeps): BrokerModule {
  const { auth, acl, sys } = policy
  const broker = createBroker({
    log,
    plugins: [...policy.plugins, ...plugins],
    store: createSqliteEngineStore({ db, log }),
    limits: engineLimits(config.mqtt),
    now,
  })
  registerHubMetrics(metrics, { db, brokerStats: () => sys.stats() })
  return {
    name: 'broker',
    broker,
    sys,
    services: [broker, sys],
    reload: [
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
    ],
  }
}

/**
 * Presence, last in the start order: it stops first and says `offline` while the broker and its
 * listeners are up. Its plugin is the policy's.
 */
export function composePresence(policy: BrokerPolicy): HubModule {
  return { name: 'presence', services: [policy.presence] }
}
