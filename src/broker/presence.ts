import type { DeviceOfflineReason } from '../bus/events.ts'
import type { Client, DisconnectInfo } from '../mqtt/types.ts'
import type { CoreDeps } from '../runtime/deps.ts'
import type { Service } from '../runtime/service.ts'
import { addressOf } from './auth.ts'
import type { DeviceDirectory } from './device-directory.ts'
import type { BrokerHandle, BrokerPlugin } from './hooks.ts'

interface PresenceOptions extends CoreDeps {
  deviceOf(client: Client): string | undefined
  /** Where presence is recorded (devices/directory.ts). */
  devices: Pick<DeviceDirectory, 'markDeviceOnline' | 'markDeviceOffline' | 'markAllDevicesOffline'>
  /** `mqtt.availabilityTopic`: keep a retained `devices/<id>/status` = `online` / `offline`. */
  availabilityTopic: boolean
}

/**
 * Presence is a broker plugin (it hears connections from the broker's start) and a service: put it after the listeners so that it stops first and can still publish `offline`
 * for every device before the broker closes.
 */
export interface Presence extends BrokerPlugin, Omit<Service, 'name'> {
  readonly name: string
  /** Device ids with at least one live connection. */
  online(): string[]
  /** Client ids of a device's live connections. */
  clientsOf(deviceId: string): string[]
}

/** The availability topic of a device. */
export const statusTopic = (deviceId: string) => `devices/${deviceId}/status`

/** The reason a person reads for each way a connection ends. */
const OFFLINE_REASON: Record<DisconnectInfo['cause'], DeviceOfflineReason> = {
  client: 'disconnect',
  takeover: 'taken over',
  keepalive: 'keepalive timeout',
  lost: 'connection lost',
  protocol: 'error',
  limit: 'error',
  server: 'disconnect',
}

/**
 * Tracks devices' connections: `device.online` when a device's first connection is registered,
 * `device.offline` with the reason when its last one ends; the registry's `online` and
 * `last_seen`; the retained availability topic, set by the hub so it is true even when a device
 * dies without a will.
 */
export function createPresence(opts: PresenceOptions): Presence {
  const { markDeviceOnline, markDeviceOffline, markAllDevicesOffline } = opts.devices
  const log = opts.log.child('presence')
  const now = opts.now ?? Date.now
  const connections = new Map<string, Set<Client>>()
  const chains = new Map<string, Promise<void>>()
  let broker: BrokerHandle | undefined
  let stopping = false

  const publishStatus = (deviceId: string, status: 'online' | 'offline') => {
    const b = broker
    if (!opts.availabilityTopic || !b?.running) return
    // One chain per device: `offline` then `online` (a takeover) must be stored in that order.
    const previous = chains.get(deviceId) ?? Promise.resolve()
    const next = previous.then(() =>
      b
        .publish({ topic: statusTopic(deviceId), payload: status, qos: 1, retain: true })
        .catch((err: unknown) => log.warn('availability publish failed', { deviceId, status, err })),
    )
    chains.set(deviceId, next)
    void next.then(() => {
      if (chains.get(deviceId) === next) chains.delete(deviceId)
    })
  }

  const offline = (deviceId: string, clientId: string | null, reason: DeviceOfflineReason) => {
    markDeviceOffline(opts.db, deviceId, reason, now())
    opts.bus.emit('device.offline', { device: deviceId, clientId, reason }, { subject: deviceId })
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
    opts.bus.emit('device.online', { device: deviceId, clientId: client.id, address }, { subject: deviceId })
    publishStatus(deviceId, 'online')
  }

  const onDisconnect = (client: Client, info: DisconnectInfo) => {
    const deviceId = opts.deviceOf(client)
    if (!deviceId || stopping) return
    const set = connections.get(deviceId)
    if (!set?.delete(client)) return
    if (set.size > 0) return
    connections.delete(deviceId)
    const reason = OFFLINE_REASON[info.cause]
    log.debug('offline', { deviceId, clientId: client.id, reason })
    offline(deviceId, client.id, reason)
  }

  return {
    name: 'presence',
    online: () => [...connections.keys()].sort(),
    clientsOf: (deviceId) => [...(connections.get(deviceId) ?? [])].map((c) => c.id),

    connected: onClient,
    disconnected: onDisconnect,

    attach(handle) {
      broker = handle
      stopping = false
      // Flags left by a hub that crashed: nobody is connected to a broker that just started.
      for (const id of markAllDevicesOffline(opts.db, 'hub restarted')) {
        opts.bus.emit(
          'device.offline',
          { device: id, clientId: null, reason: 'hub restarted' },
          { subject: id },
        )
        publishStatus(id, 'offline')
      }
    },
    detach() {
      broker = undefined
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
