import type { Database } from 'bun:sqlite'
import type { ActionExecutor } from '../actions/runner.ts'
import { render } from '../actions/template.ts'
import { attachedBroker, type BrokerPlugin } from '../broker/hooks.ts'
import { topicMatches } from '../broker/topic-filter.ts'
import type { Bus } from '../bus/bus.ts'
import type { JsonObject } from '../bus/payloads.ts'
import type { Logger } from '../log.ts'
import type { Client, Message, Subscription } from '../mqtt/types.ts'
import type { Service } from '../runtime/service.ts'
import type { SetDesiredAction } from './desired-action.ts'
import type { DeviceStateView } from './schema.ts'
import {
  isObject,
  mergeState,
  nextDeadline,
  overdue,
  readState,
  stateDelta,
  writeState,
} from './state-store.ts'
import type { DeviceTopics } from './topics.ts'
import { createWakeup } from './wakeup.ts'

interface DeviceStateOptions {
  db: Database
  bus: Bus
  log: Logger
  topics: Pick<DeviceTopics, 'state' | 'set'>
  /** How long a device has to report a desired state before `device.convergence_timeout`. */
  convergenceTimeout: number
  deviceOf(client: Client): string | undefined
  now?: () => number
}

export interface DeviceState extends Service {
  /** Reads `devices/<id>/state` publishes and re-sends pending desired state to a device that subscribes. */
  plugin: BrokerPlugin
  /** Undefined when the device is not registered. */
  get(deviceId: string): DeviceStateView | undefined
  /** Merges into the desired state, publishes what is still to do to the set topic. */
  setDesired(deviceId: string, patch: JsonObject, source: string): DeviceStateView | undefined
  /** Merges into the reported state (MQTT state topic, ingest, tests). */
  report(deviceId: string, patch: JsonObject): DeviceStateView | undefined
  /** The `setDesired` action of rules and schedules. */
  executor: ActionExecutor<SetDesiredAction>
  /** Raises what timed out now (it also runs on a timer). */
  sweep(): void
}

/**
 * Desired vs reported state per device, kept like a device shadow: `reported`
 * comes from the device's state topic or ingest, `desired` from the API, rules and schedules; the
 * delta (desired keys the device does not report yet) is published to the set topic and stays
 * `pending` until a report makes it empty, or raises `device.convergence_timeout` once it is late.
 */
export function createDeviceState(opts: DeviceStateOptions): DeviceState {
  const { db, bus, topics } = opts
  const log = opts.log.child('device-state')
  const now = opts.now ?? Date.now
  const registered = db.query('SELECT 1 FROM devices WHERE id = ?')
  const broker = attachedBroker()

  const publishDelta = (deviceId: string, delta: JsonObject) => {
    const b = broker.current
    if (!b?.running) return
    b.publish({
      topic: topics.set.of(deviceId),
      payload: JSON.stringify(delta),
      qos: 1,
      retain: false,
    }).catch((err: unknown) => log.warn('desired state publish failed', { deviceId, err }))
  }

  const timeouts = (): number | undefined => {
    const t = now()
    for (const deviceId of overdue(db, t)) {
      const s = readState(db, deviceId)
      writeState(db, { ...s, timedOutAt: t })
      log.info('device did not reach its desired state in time', { deviceId })
      bus.emit(
        'device.convergence_timeout',
        { device: deviceId, desiredVersion: s.desiredVersion, delta: s.delta, waitedMs: t - (s.sentAt ?? t) },
        { subject: deviceId },
      )
    }
    return nextDeadline(db)
  }
  const wakeup = createWakeup(timeouts, now)

  /**
   * Reads a registered device's state, changes it with `change` and writes it, in one transaction;
   * undefined when the device is not registered.
   */
  const changeState = (deviceId: string, change: (s: DeviceStateView, t: number) => DeviceStateView) => {
    if (!registered.get(deviceId)) return undefined
    const t = now()
    return db.transaction(() => {
      const before = readState(db, deviceId)
      const next = change(before, t)
      writeState(db, next)
      return { before, next, t }
    })()
  }

  const report = (deviceId: string, patch: JsonObject): DeviceStateView | undefined => {
    const changed = changeState(deviceId, (s, t) => {
      const reported = mergeState(s.reported, patch)
      const delta = stateDelta(s.desired, reported)
      const done = s.pending && Object.keys(delta).length === 0
      return {
        ...s,
        reported,
        reportedVersion: s.reportedVersion + 1,
        reportedAt: t,
        delta,
        ...(done ? { pending: false, deadline: null } : {}),
      }
    })
    if (!changed) return undefined
    const { before, next, t } = changed
    bus.emit(
      'device.reported',
      {
        device: deviceId,
        version: next.reportedVersion,
        reported: next.reported,
        delta: next.delta,
        pending: next.pending,
      },
      { subject: deviceId },
    )
    // A state that just converged: sentAt tells how long the device took.
    if (before.pending && !next.pending)
      bus.emit(
        'device.converged',
        {
          device: deviceId,
          desiredVersion: next.desiredVersion,
          reportedVersion: next.reportedVersion,
          ms: t - (before.sentAt ?? t),
        },
        { subject: deviceId },
      )
    return next
  }

  const setDesired = (deviceId: string, patch: JsonObject, source: string): DeviceStateView | undefined => {
    const next = changeState(deviceId, (s, t) => {
      const desired = mergeState(s.desired, patch)
      const delta = stateDelta(desired, s.reported)
      const pending = Object.keys(delta).length > 0
      return {
        ...s,
        desired,
        desiredVersion: s.desiredVersion + 1,
        desiredAt: t,
        delta,
        pending,
        sentAt: pending ? t : s.sentAt,
        deadline: pending ? t + opts.convergenceTimeout : null,
        timedOutAt: null,
      }
    })?.next
    if (!next) return undefined
    if (next.pending) {
      publishDelta(deviceId, next.delta)
      if (next.deadline !== null) wakeup.at(next.deadline)
    }
    bus.emit(
      'device.desired',
      { device: deviceId, version: next.desiredVersion, desired: next.desired, delta: next.delta, source },
      { subject: deviceId },
    )
    return next
  }

  // A device that (re)subscribes to its set topic gets what it still has to do.
  const onSubscribe = (client: Client, subs: readonly Subscription[]) => {
    const deviceId = opts.deviceOf(client)
    if (!deviceId) return
    const topic = topics.set.of(deviceId)
    if (!subs.some((s) => topicMatches(s.filter, topic))) return
    const s = readState(db, deviceId)
    if (s.pending) publishDelta(deviceId, s.delta)
  }

  const plugin: BrokerPlugin = {
    name: 'device-state',
    published(packet: Message) {
      const deviceId = topics.state.deviceIn(packet.topic)
      if (!deviceId) return
      let body: unknown
      try {
        body = JSON.parse(packet.payload.toString())
      } catch {
        log.debug('state that is not JSON ignored', { topic: packet.topic })
        return
      }
      if (isObject(body)) report(deviceId, body)
      else log.debug('state that is not a JSON object ignored', { topic: packet.topic })
    },
    subscribed: onSubscribe,
    attach: broker.attach,
    detach: broker.detach,
  }

  return {
    name: 'device-state',
    plugin,
    get: (deviceId) => (registered.get(deviceId) ? readState(db, deviceId) : undefined),
    setDesired,
    report,
    sweep: () => void timeouts(),

    executor(action, ctx) {
      const { text: deviceId, missing } = render(action.device, ctx.data ?? {})
      if (missing.length) throw new Error(`device placeholder ${missing.join(', ')} has no value`)
      const next = setDesired(deviceId, action.state, ctx.source)
      if (!next) throw new Error(`no device "${deviceId}"`)
      return { device: deviceId, version: next.desiredVersion, delta: next.delta, pending: next.pending }
    },

    start() {
      // Ingest bodies are a sensor's report of its state.
      bus.on('device-state', 'ingest.received', (e) => {
        if (isObject(e.detail.body)) report(e.detail.device, e.detail.body)
      })
      wakeup.start()
    },
    stop() {
      bus.off('device-state')
      wakeup.stop()
    },
  }
}
