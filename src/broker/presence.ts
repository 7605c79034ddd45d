import type { Database } from 'bun:sqlite'
import type { Aedes, Client } from 'aedes'
import type { Bus } from '../bus/bus.ts'
import { markAllDevicesOffline, markDeviceOffline, markDeviceOnline } from '../devices/registry.ts'
import type { Logger } from '../log.ts'
import type { DeviceOfflineReason } from '../protocol.ts'
import type { Service } from '../runtime/service.ts'
import { addressOf } from './auth.ts'
import type { BrokerPlugin } from './hooks.ts'

export interface PresenceOptions {
  db: Database
  bus: Bus
  log: Logger
  deviceOf(client: Client): string | undefined
  /** `mqtt.availabilityTopic`: keep a retained `devices/<id>/status` = `online` / `offline`. */
  availabilityTopic: boolean
  now?: () => number
}

/**
 * Presence (issue 3 point 8) is a broker plugin (it listens to Aedes from the broker's start) and
 * a service: put it after the listeners so that it stops first and can still publish `offline`
 * for every device before the broker closes.
 */
export interface Presence extends BrokerPlugin, Omit<Service, 'name'> {
  readonly name: string
  /** Device ids with at least one live connection. */
  online(): string[]
}

/** The availability topic of a device. */
export const statusTopic = (deviceId: string) => `devices/${deviceId}/status`

/** Errors that only mean the peer went away, not that it misbehaved. */
const LOST = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED'])

/**
 * Tracks devices' connections: `device.online` when a device's first connection is registered,
 * `device.offline` with the reason when its last one ends; the registry's `online` and
 * `last_seen`; the retained availability topic, set by the hub so it is true even when a device
 * dies without a will.
 */
export function createPresence(opts: PresenceOptions): Presence {
  const log = opts.log.child('presence')
  const now = opts.now ?? Date.now
  const connections = new Map<string, Set<Client>>()
  const reasons = new WeakMap<Client, DeviceOfflineReason>()
  const takenOver = new WeakSet<Client>()
  const chains = new Map<string, Promise<void>>()
  let aedes: Aedes | undefined
  let stopping = false
  let detachListeners: (() => void) | undefined

  const publishStatus = (deviceId: string, status: 'online' | 'offline') => {
    const broker = aedes
    if (!opts.availabilityTopic || !broker || broker.closed) return
    // One chain per device: `offline` then `online` (a takeover) must be stored in that order.
    const previous = chains.get(deviceId) ?? Promise.resolve()
    const next = previous.then(
      () =>
        new Promise<void>((resolve) => {
          broker.publish(
            {
              cmd: 'publish',
              topic: statusTopic(deviceId),
              payload: Buffer.from(status),
              qos: 1,
              retain: true,
              dup: false,
            },
            (err) => {
              if (err) log.warn('availability publish failed', { deviceId, status, err })
              resolve()
            },
          )
        }),
    )
    chains.set(deviceId, next)
    void next.then(() => {
      if (chains.get(deviceId) === next) chains.delete(deviceId)
    })
  }

  const offline = (deviceId: string, clientId: string | null, reason: DeviceOfflineReason) => {
    markDeviceOffline(opts.db, deviceId, reason, now())
    opts.bus.emit('device.offline', { id: deviceId, clientId, reason }, { subject: deviceId })
    publishStatus(deviceId, 'offline')
  }

  const onClient = (client: Client) => {
    const deviceId = opts.deviceOf(client)
    if (!deviceId || stopping) return
    let set = connections.get(deviceId)
    if (!set) {
      set = new Set()
      connections.set(deviceId, set)
    }
    set.add(client)
    const address = addressOf(client)
    markDeviceOnline(opts.db, deviceId, { clientId: client.id, address }, now())
    // A second connection of a device that is already online changes nothing a person sees.
    if (set.size > 1) return
    log.debug('online', { deviceId, clientId: client.id, address })
    opts.bus.emit('device.online', { id: deviceId, clientId: client.id, address }, { subject: deviceId })
    publishStatus(deviceId, 'online')
  }

  const onDisconnect = (client: Client) => {
    const deviceId = opts.deviceOf(client)
    if (!deviceId || stopping) return
    const set = connections.get(deviceId)
    if (!set?.delete(client)) return
    if (set.size > 0) return
    connections.delete(deviceId)
    const reason: DeviceOfflineReason = takenOver.has(client)
      ? 'taken over'
      : (reasons.get(client) ??
        ((client as { _disconnected?: boolean })._disconnected ? 'disconnect' : 'connection lost'))
    log.debug('offline', { deviceId, clientId: client.id, reason })
    offline(deviceId, client.id, reason)
  }

  return {
    name: 'presence',
    online: () => [...connections.keys()].sort(),

    attach(broker) {
      aedes = broker
      stopping = false
      // Flags left by a hub that crashed: nobody is connected to a broker that just started.
      for (const id of markAllDevicesOffline(opts.db, 'hub restarted')) {
        opts.bus.emit('device.offline', { id, clientId: null, reason: 'hub restarted' }, { subject: id })
        publishStatus(id, 'offline')
      }
      const onKeepalive = (client: Client) => reasons.set(client, 'keepalive timeout')
      const onError = (client: Client, err: Error) => {
        if (reasons.has(client)) return
        const code = (err as NodeJS.ErrnoException).code
        reasons.set(client, code && LOST.has(code) ? 'connection lost' : 'error')
      }
      broker.on('client', onClient)
      broker.on('clientDisconnect', onDisconnect)
      broker.on('keepaliveTimeout', onKeepalive)
      broker.on('clientError', onError)
      // [MQTT-3.1.4-2] a CONNECT with a client id in use closes the older connection. Aedes
      // closes it from registerClient without saying why, so that is where it is seen.
      const target = broker as unknown as {
        registerClient(client: Client): void
        clients: Record<string, Client | undefined>
      }
      const register = target.registerClient
      const wrapper = function (this: unknown, client: Client) {
        const previous = target.clients[client.id]
        if (previous && previous !== client) takenOver.add(previous)
        register.call(this, client)
      }
      target.registerClient = wrapper
      detachListeners = () => {
        broker.off('client', onClient)
        broker.off('clientDisconnect', onDisconnect)
        broker.off('keepaliveTimeout', onKeepalive)
        broker.off('clientError', onError)
        if (target.registerClient === wrapper) target.registerClient = register
      }
    },
    detach() {
      detachListeners?.()
      detachListeners = undefined
      aedes = undefined
    },

    start() {},
    async stop() {
      if (stopping) return
      stopping = true
      // The broker is still up (presence stops before it): say so while subscribers can hear it.
      for (const [deviceId, set] of connections) {
        const last = [...set].at(-1)
        offline(deviceId, last?.id ?? null, 'hub stopped')
      }
      connections.clear()
      await Promise.all([...chains.values()])
    },
  }
}
