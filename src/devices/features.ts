import type { ActionRunner } from '../actions/runner.ts'
import type { Acl } from '../broker/acl.ts'
import type { BrokerPlugin } from '../broker/hooks.ts'
import type { EventType } from '../bus/events.ts'
import type { Client } from '../mqtt/types.ts'
import type { CoreDeps } from '../runtime/deps.ts'
import type { Service } from '../runtime/service.ts'
import type { DevicesConfig } from './config.ts'
import { createDelivery } from './delivery.ts'
import { createGroupService, type GroupService } from './group-service.ts'
import { groupsOfDevice } from './groups.ts'
import { createMessaging, type Messaging } from './messaging.ts'
import { createDeviceState, type DeviceState } from './state.ts'
import { deviceTopics, messagingAclRules } from './topics.ts'
import { createUpstream } from './upstream.ts'

/**
 * Events emitted per state report or per burst of PUBACKs: live on the bus and in consoles, not
 * worth a row each in the event log (state and statuses have tables of their own).
 */
export const DEVICE_TRANSIENT_EVENTS: readonly EventType[] = ['device.reported', 'message.progress']

interface DeviceFeaturesOptions extends CoreDeps {
  config: DevicesConfig
  deviceOf(client: Client): string | undefined
  acl: Pick<Acl, 'addProvider' | 'invalidate' | 'canSubscribe'>
  actions: ActionRunner
}

interface DeviceFeatures {
  /** Add to the broker's plugins (before its persistence plugin). */
  plugins: BrokerPlugin[]
  /** Start after the broker, so they stop while it still runs. */
  services: Service[]
  groups: GroupService
  messaging: Messaging
  state: DeviceState
}

/** Groups, messaging, upstream and device state over MQTT, wired together (REST and `/ws` mount them). */
export function createDeviceFeatures(opts: DeviceFeaturesOptions): DeviceFeatures {
  const { db, bus, log, config } = opts
  const now = opts.now ?? Date.now
  const topics = deviceTopics(config)
  const own = messagingAclRules(topics)
  // Members read `groups/<groupId>/#`; every device its own messaging topics wherever configured.
  opts.acl.addProvider((deviceId) => [
    ...own,
    ...groupsOfDevice(db, deviceId).map((g) => ({ pattern: `groups/${g}/#`, access: 'read' as const })),
  ])
  const groups = createGroupService({
    db,
    bus,
    onMembershipChange: (left) => {
      opts.acl.invalidate()
      delivery.revoke(left, opts.acl.canSubscribe)
    },
    now,
  })

  // The broker calls back into messaging only once started, after both exist.
  const delivery = createDelivery({
    log,
    inbox: topics.inbox,
    deviceOf: opts.deviceOf,
    onAck: (a) => messaging.ack(a),
    onReady: (deviceId, resend) => messaging.ready(deviceId, resend),
    isExpired: (at) => at <= now(),
    now,
  })
  const messaging = createMessaging({
    db,
    bus,
    log,
    delivery,
    actions: opts.actions,
    messageTtl: config.messageTtl,
    messageRetention: config.messageRetention,
    now,
  })
  const state = createDeviceState({
    db,
    bus,
    log,
    topics,
    convergenceTimeout: config.convergenceTimeout,
    deviceOf: opts.deviceOf,
    now,
  })
  const upstream = createUpstream({ db, bus, outbox: topics.outbox, now })

  let unregister: (() => void) | undefined
  // setDesired is declared in the shared action set; this is where it is carried out.
  const executor: Service = {
    name: 'set-desired-action',
    start() {
      unregister = opts.actions.register('setDesired', state.executor)
    },
    stop() {
      unregister?.()
      unregister = undefined
    },
  }
  return {
    plugins: [delivery, upstream, state.plugin],
    services: [messaging, state, executor],
    groups,
    messaging,
    state,
  }
}
