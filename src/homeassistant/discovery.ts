import type { Database } from 'bun:sqlite'
import { createHash } from 'node:crypto'
import type { PublishFn } from '../actions/publish.ts'
import { statusTopic } from '../broker/presence.ts'
import type { Bus } from '../bus/bus.ts'
import { listDevices } from '../devices/registry.ts'
import type { Logger } from '../log.ts'
import type { Service } from '../runtime/service.ts'
import type { HomeAssistantConfig } from './config.ts'
import { sensorKind } from './units.ts'

interface DiscoveryOptions {
  db: Database
  bus: Bus
  log: Logger
  config: HomeAssistantConfig
  /** Publishes as the hub (retained storage and subscribers see it like any publish). */
  publish: PublishFn
  /** Every (device, metric) series the telemetry store knows. */
  series(): ReadonlyArray<{ device: string; metric: string }>
  /** The latest reading of every metric of a device. */
  latest(device: string): ReadonlyArray<{ device: string; metric: string; ts: number; value: number }>
  /** `mqtt.availabilityTopic`: the hub keeps `devices/<id>/status`, so entities can follow it. */
  availability: boolean
  version: string
  /** How often the registry is read again, for changes made by the CLI in another process. */
  refreshMs?: number
}

interface HomeAssistantDiscovery extends Service {
  /** Brings the published configs in line with the registry and telemetry now; resolves when sent. */
  refresh(): Promise<void>
}

interface Announced {
  name: string
  metrics: Set<string>
}

const OWNER = 'homeassistant-discovery'

/**
 * Home Assistant MQTT discovery (home-assistant.io/integrations/mqtt/#mqtt-discovery) for the
 * hub's telemetry: one retained `sensor` config per metric of every registered device, whose
 * state topic carries the metric's latest value (retained too, so Home Assistant has a value
 * after its own restart). A config is sent again when the device is renamed, sent when a metric
 * first appears, and cleared with an empty retained payload when the device is removed, which
 * makes Home Assistant delete the entity. Every publish goes through one queue, so a config is
 * always on the broker before the first state of its sensor and a clear comes after both.
 */
export function createHomeAssistantDiscovery(opts: DiscoveryOptions): HomeAssistantDiscovery {
  const log = opts.log.child('homeassistant')
  const { config } = opts
  const refreshMs = opts.refreshMs ?? 30_000
  const announced = new Map<string, Announced>()
  let registered = new Set<string>()
  // The newest reading time whose value was published, per series: a late reading stays out.
  const stateTs = new Map<string, number>()
  const pendingState = new Map<string, { device: string; metric: string; ts: number; value: number }>()
  let chain: Promise<void> = Promise.resolve()
  let immediate: ReturnType<typeof setImmediate> | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  let lastUnknownCheck = 0

  const enqueue = (what: string, fn: () => Promise<void>): Promise<void> => {
    chain = chain.then(fn).catch((err: unknown) => log.warn('discovery publish failed', { what, err }))
    return chain
  }
  const send = (topic: string, payload: string, qos: 0 | 1) =>
    opts.publish({ topic, payload: Buffer.from(payload), qos, retain: true })

  const configTopic = (device: string, metric: string) =>
    `${config.discoveryPrefix}/sensor/${device}_${objectId(metric)}/config`
  const stateTopic = (device: string, metric: string) => `${config.stateTopicPrefix}/${device}/${metric}`

  const sensorConfig = (device: string, name: string, metric: string) => {
    const kind = sensorKind(metric, config.units)
    return {
      name: metric,
      unique_id: `hearth_${device}_${objectId(metric)}`,
      state_topic: stateTopic(device, metric),
      ...(kind.unit ? { unit_of_measurement: kind.unit } : {}),
      ...(kind.deviceClass ? { device_class: kind.deviceClass } : {}),
      state_class: kind.stateClass,
      // Without the hub's availability topic an entity that names one would stay unavailable.
      ...(opts.availability
        ? {
            availability_topic: statusTopic(device),
            payload_available: 'online',
            payload_not_available: 'offline',
          }
        : {}),
      device: { identifiers: [`hearth_${device}`], name, manufacturer: 'Hearth', model: 'Hearth device' },
      origin: { name: 'Hearth', sw_version: opts.version },
    }
  }

  const announce = (device: string, name: string, metric: string) =>
    send(configTopic(device, metric), JSON.stringify(sensorConfig(device, name, metric)), 1)
  const clear = async (device: string, metric: string) => {
    await send(configTopic(device, metric), '', 1)
    await send(stateTopic(device, metric), '', 1)
    stateTs.delete(`${device}\u0000${metric}`)
  }

  /** What should be announced: the metrics of registered devices, under their current names. */
  const wanted = (): Map<string, Announced> => {
    const names = new Map(listDevices(opts.db).map((d) => [d.id, d.name]))
    registered = new Set(names.keys())
    const out = new Map<string, Announced>()
    for (const { device, metric } of opts.series()) {
      const name = names.get(device)
      if (name === undefined) continue
      let entry = out.get(device)
      if (!entry) {
        entry = { name, metrics: new Set() }
        out.set(device, entry)
      }
      entry.metrics.add(metric)
    }
    return out
  }

  // A burst of readings of a new metric asks for many; one not yet started covers them all.
  let reconcileQueued = false
  const reconcile = (): Promise<void> => {
    if (reconcileQueued) return chain
    reconcileQueued = true
    return enqueue('reconcile', async () => {
      reconcileQueued = false
      const want = wanted()
      for (const [device, had] of announced) {
        const now = want.get(device)
        for (const metric of had.metrics) if (!now?.metrics.has(metric)) await clear(device, metric)
        if (!now) {
          announced.delete(device)
          log.info('cleared', { device })
        }
      }
      for (const [device, w] of want) {
        const had = announced.get(device)
        const renamed = had !== undefined && had.name !== w.name
        const added = [...w.metrics].filter((m) => renamed || !had?.metrics.has(m))
        for (const metric of added) await announce(device, w.name, metric)
        announced.set(device, w)
        if (!added.length) continue
        log.info('announced', { device, metrics: added })
        // Values stored before the config existed (readings of a device just registered, or
        // everything when discovery is turned on).
        for (const r of opts.latest(device)) if (added.includes(r.metric)) queueState(r)
      }
    })
  }

  const flushState = () => {
    immediate = undefined
    const batch = [...pendingState.values()]
    pendingState.clear()
    void enqueue('state', async () => {
      for (const r of batch) {
        const key = `${r.device}\u0000${r.metric}`
        if (!announced.get(r.device)?.metrics.has(r.metric) || (stateTs.get(key) ?? -1) > r.ts) continue
        stateTs.set(key, r.ts)
        await send(stateTopic(r.device, r.metric), String(r.value), 0)
      }
    })
  }
  // Readings arrive by the thousand in a burst: only the newest per series in one turn is sent.
  const queueState = (r: { device: string; metric: string; ts: number; value: number }) => {
    const key = `${r.device}\u0000${r.metric}`
    const queued = pendingState.get(key)
    if (!queued || queued.ts <= r.ts) pendingState.set(key, r)
    immediate ??= setImmediate(flushState)
  }

  return {
    name: 'homeassistant-discovery',
    refresh: reconcile,
    async start() {
      const { bus } = opts
      bus.on(OWNER, 'telemetry.reading', (e) => {
        const r = e.detail
        if (!registered.has(r.device)) {
          // Perhaps registered by the CLI a moment ago; telemetry labels that are no device
          // (a topic level) must not cost a registry read per reading, hence at most once a second.
          if (Date.now() - lastUnknownCheck < 1000) return
          lastUnknownCheck = Date.now()
          void reconcile()
          return
        }
        if (!announced.get(r.device)?.metrics.has(r.metric)) void reconcile()
        queueState(r)
      })
      for (const type of ['device.created', 'device.removed', 'device.renamed'] as const)
        bus.on(OWNER, type, () => void reconcile())
      // Devices removed while the hub was down (their series outlive them): clear what was theirs.
      void enqueue('orphans', async () => {
        const names = new Set(listDevices(opts.db).map((d) => d.id))
        for (const { device, metric } of opts.series()) if (!names.has(device)) await clear(device, metric)
      })
      void reconcile()
      timer = setInterval(() => void reconcile(), refreshMs)
      timer.unref?.()
      await chain
    },
    async stop() {
      opts.bus.off(OWNER)
      if (timer) clearInterval(timer)
      timer = undefined
      if (immediate) clearImmediate(immediate)
      immediate = undefined
      pendingState.clear()
      await chain
    },
  }
}

/**
 * A discovery topic's object id holds only `[a-zA-Z0-9_-]`; a metric name with other characters
 * (`env.humidity`) gets them replaced and a short hash of the name, so two names never collide.
 */
function objectId(metric: string): string {
  const safe = metric.replace(/[^a-zA-Z0-9_-]/g, '_')
  if (safe === metric) return metric
  return `${safe}_${createHash('sha256').update(metric).digest('hex').slice(0, 8)}`
}
