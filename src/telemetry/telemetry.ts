import type { Database } from 'bun:sqlite'
import type { Bus } from '../bus/bus.ts'
import type { EventType } from '../bus/events.ts'
import type { Logger } from '../log.ts'
import type { Client } from '../mqtt/types.ts'
import type { Service } from '../runtime/service.ts'
import type { TelemetryConfig } from './config.ts'
import { createMqttTelemetry, type MqttTelemetry } from './mqtt-extract.ts'
import { querySeries, type Retention, type SeriesQuery, type SeriesResult } from './query.ts'
import { createTelemetryRetention, type TelemetryRetention } from './retention.ts'
import { createTelemetryStore, type Latest, type TelemetryStore } from './store.ts'
import { createTelemetryWriter, type TelemetryWriter } from './writer.ts'

/**
 * Event types emitted once per reading or ingest request: they reach rules and live consoles
 * on the bus, but would flood the event log (readings live in the telemetry tables instead).
 */
export const TELEMETRY_TRANSIENT_EVENTS: readonly EventType[] = ['telemetry.reading', 'ingest.received']

interface TelemetryOptions {
  db: Database
  bus: Bus
  log: Logger
  config: TelemetryConfig
  now?: () => number
  /** The registered device an MQTT client authenticated as (from the broker's auth), if known. */
  deviceOf?: (client: Client) => string | undefined
  /** Topic filters of the hub's own republished readings, never extracted again. */
  ownTopics?: readonly string[]
}

export interface Telemetry {
  /** The telemetry tables; the writer owns every write to them. */
  store: TelemetryStore
  writer: TelemetryWriter
  retention: TelemetryRetention
  /** Extracts readings from MQTT messages per `telemetry.mqtt`; add it to the broker's plugins. */
  mqtt: MqttTelemetry
  /** The writer, then the retention job: start in this order, stop in reverse. */
  services: Service[]
  query(q: SeriesQuery): SeriesResult
  latest(device?: string): Latest[]
}

/** Telemetry storage, extraction and queries, built from the `[telemetry]` config. */
export function createTelemetry(opts: TelemetryOptions): Telemetry {
  const { db, config } = opts
  const now = opts.now ?? Date.now
  const window: Retention = {
    rawMs: config.rawRetention,
    minuteMs: config.minuteRetention ?? config.rollupRetention,
  }
  const store = createTelemetryStore(db)
  const writer = createTelemetryWriter({ store, bus: opts.bus, log: opts.log, now })
  const retention = createTelemetryRetention({
    store,
    log: opts.log,
    rawMs: window.rawMs,
    minuteMs: window.minuteMs,
    hourMs: config.rollupRetention,
    everyMs: config.pruneInterval,
    now,
  })
  const mqtt = createMqttTelemetry({
    rules: config.mqtt,
    writer,
    log: opts.log,
    now,
    ...(opts.deviceOf ? { deviceOf: opts.deviceOf } : {}),
    ...(opts.ownTopics ? { ownTopics: opts.ownTopics } : {}),
  })
  return {
    writer,
    retention,
    mqtt,
    services: [writer, retention],
    store,
    query: (q) => querySeries(store, q, window, now()),
    latest: (device) => store.selectLatest(device),
  }
}
