import { describe, expect, it } from 'bun:test'
import mqtt from 'mqtt'
import { createDevice } from '../../src/devices/registry.ts'
import { queryEvents } from '../../src/store/events.ts'
import { startTestHub } from '../helpers/hub.ts'

const T0 = Date.UTC(2025, 0, 15, 12)

const rules = [
  // JSON payloads: device from a topic level, metrics from JSON paths (a source-(d) object too).
  {
    topic: 'devices/+/state',
    device: 1,
    metrics: { temperature: 'temp', humidity: '$.env.humidity', co: 'co' },
    ts: 'time',
  },
  // Plain numeric payloads: device from the MQTT username, metric from a topic level.
  { topic: 'devices/+/sensor/+', device: 'username', metric: 3 },
  // Every numeric field, Zigbee2MQTT style.
  { topic: 'zigbee/+', device: 1, metrics: '*' },
]

async function hubWithRules() {
  return startTestHub(
    {
      mqtt: { allowAnonymous: true, anonymousAcl: [{ pattern: 'zigbee/#', access: 'write' }] },
      telemetry: { mqtt: rules },
    },
    { now: () => T0 },
  )
}

const rows = (db: import('bun:sqlite').Database) =>
  db
    .query(
      `SELECT s.device, s.metric, r.ts, r.value FROM telemetry_raw r JOIN telemetry_series s ON s.id = r.series
       ORDER BY s.device, s.metric, r.ts`,
    )
    .all()

describe('telemetry from MQTT', () => {
  it('stores readings from JSON paths and topic levels before the QoS 1 PUBACK', async () => {
    await using t = await hubWithRules()
    const { credentials } = await createDevice(t.hub.db, { id: 'pi-1' })
    const client = await mqtt.connectAsync(t.mqttUrl, {
      username: credentials.username,
      password: credentials.password,
      reconnectPeriod: 0,
    })
    try {
      await client.publishAsync(
        'devices/pi-1/state',
        JSON.stringify({
          temp: 21.5,
          env: { humidity: '40' },
          co: { value: '26.20' },
          time: '2025-01-15T11:00:00Z',
        }),
        { qos: 1 },
      )
      await client.publishAsync('devices/pi-1/sensor/no2', ' 52.5 ', { qos: 1 })
      // Not a number: the message is routed, nothing is stored.
      await client.publishAsync('devices/pi-1/sensor/status', 'online', { qos: 1 })
    } finally {
      await client.endAsync()
    }
    const hourAgo = T0 - 3_600_000
    expect(rows(t.hub.db)).toEqual([
      { device: 'pi-1', metric: 'co', ts: hourAgo, value: 26.2 },
      { device: 'pi-1', metric: 'humidity', ts: hourAgo, value: 40 },
      { device: 'pi-1', metric: 'no2', ts: T0, value: 52.5 },
      { device: 'pi-1', metric: 'temperature', ts: hourAgo, value: 21.5 },
    ])
  })

  it('takes every numeric field with metrics = "*", and keeps readings out of the event log', async () => {
    await using t = await hubWithRules()
    const seen: string[] = []
    t.hub.bus.on('probe', 'telemetry.reading', (e) =>
      seen.push(`${e.detail.metric}=${e.detail.value} (${e.detail.source})`),
    )
    const client = await mqtt.connectAsync(t.mqttUrl, { reconnectPeriod: 0 })
    try {
      await client.publishAsync(
        'zigbee/kitchen',
        JSON.stringify({ temperature: 19, linkquality: 120, state: 'ON' }),
        {
          qos: 1,
        },
      )
    } finally {
      await client.endAsync()
    }
    expect(seen).toEqual(['temperature=19 (mqtt)', 'linkquality=120 (mqtt)'])
    expect(rows(t.hub.db)).toHaveLength(2)
    expect(queryEvents(t.hub.db, { types: ['telemetry.reading'] }).items).toEqual([])
  })

  it('times a reading whose own time is out of range (before 2000, a day ahead) by its arrival', async () => {
    await using t = await hubWithRules()
    const client = await mqtt.connectAsync(t.mqttUrl, { reconnectPeriod: 0 })
    try {
      await client.publishAsync('zigbee/hall', JSON.stringify({ temperature: 18, ts: 1e20 }), { qos: 1 })
      await client.publishAsync('zigbee/attic', JSON.stringify({ temperature: 9, ts: 12 }), { qos: 1 })
    } finally {
      await client.endAsync()
    }
    expect(rows(t.hub.db)).toEqual([
      { device: 'attic', metric: 'temperature', ts: T0, value: 9 },
      { device: 'hall', metric: 'temperature', ts: T0, value: 18 },
    ])
  })
})
