// Home Assistant MQTT discovery of the hub's telemetry, read the way Home Assistant reads it: an
// MQTT client with the home-assistant preset subscribed to homeassistant/#.
import { describe, expect, it } from 'bun:test'
import type { MqttClient } from 'mqtt'
import { createDevice, type DeviceCredentials } from '../../src/devices/registry.ts'
import { openStore } from '../../src/store/open.ts'
import { createToken } from '../../src/store/tokens.ts'
import { connect, login } from '../broker/mqtt-fixture.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'

const CONFIG = {
  homeAssistant: { discovery: true, units: { no2: 'µg/m³' } },
  telemetry: { mqtt: [{ topic: 'devices/+/telemetry', device: 'username', metrics: '*' }] },
}

const configTopic = (device: string, metric: string) => `homeassistant/sensor/${device}_${metric}/config`

interface Received {
  topic: string
  payload: string
  retain: boolean
}

/** Every message a client receives from now on, in order. */
function record(client: MqttClient): Received[] {
  const seen: Received[] = []
  client.on('message', (topic, payload, packet) =>
    seen.push({ topic, payload: payload.toString(), retain: packet.retain }),
  )
  return seen
}

/** The last message on `topic` satisfying `ok`, waited for. */
async function last(seen: Received[], topic: string, ok: (m: Received) => boolean = () => true) {
  return waitFor(() => seen.findLast((m) => m.topic === topic && ok(m)), { what: `a message on ${topic}` })
}

async function api(t: TestHub, method: string, path: string, body?: unknown): Promise<Response> {
  const { secret } = createToken(t.hub.db, { name: `t-${crypto.randomUUID()}`, scope: 'write' })
  return t.hub.app.request(`/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
}

/** Home Assistant's MQTT client, registered with its preset; `again` connects a second one. */
async function homeAssistant(t: TestHub) {
  const { credentials } = await createDevice(t.hub.db, { id: 'home-assistant', preset: 'home-assistant' })
  const client = await connect(t.mqttUrl, { ...login(credentials), clientId: 'home-assistant' })
  return Object.assign(client, {
    again: () => connect(t.mqttUrl, { ...login(credentials), clientId: 'home-assistant-2' }),
  })
}

describe('Home Assistant discovery', () => {
  it('announces every metric of a device with the fields Home Assistant requires, before its first state', async () => {
    await using t = await startTestHub(CONFIG)
    await using hass = await homeAssistant(t)
    const seen = record(hass)
    await hass.subscribeAsync(['homeassistant/#', 'hearth/telemetry/#'], { qos: 1 })
    const res = await api(t, 'POST', '/devices', { id: 'pi-1', name: 'Kitchen Pi' })
    const { credentials } = (await res.json()) as { credentials: DeviceCredentials }
    await using pi = await connect(t.mqttUrl, { ...login(credentials), clientId: 'pi-1' })
    await pi.publishAsync('devices/pi-1/telemetry', '{"temperature":21.5,"no2":40,"rssi":-61}', { qos: 1 })

    const state = await last(seen, 'hearth/telemetry/pi-1/temperature')
    expect(state.payload).toBe('21.5')
    const config = JSON.parse((await last(seen, configTopic('pi-1', 'temperature'))).payload)
    // Required by Home Assistant's MQTT sensor: state_topic; for a device: unique_id and device
    // identifiers (home-assistant.io/integrations/mqtt/#discovery-payload).
    expect(config).toEqual({
      name: 'temperature',
      unique_id: 'hearth_pi-1_temperature',
      state_topic: 'hearth/telemetry/pi-1/temperature',
      unit_of_measurement: '°C',
      device_class: 'temperature',
      state_class: 'measurement',
      availability_topic: 'devices/pi-1/status',
      payload_available: 'online',
      payload_not_available: 'offline',
      device: {
        identifiers: ['hearth_pi-1'],
        name: 'Kitchen Pi',
        manufacturer: 'Hearth',
        model: 'Hearth device',
      },
      origin: { name: 'Hearth', sw_version: expect.any(String) },
    })
    // A configured unit; a metric nobody knows gets none (and no device class).
    expect(JSON.parse((await last(seen, configTopic('pi-1', 'no2'))).payload)).toMatchObject({
      unit_of_measurement: 'µg/m³',
    })
    const rssi = JSON.parse((await last(seen, configTopic('pi-1', 'rssi'))).payload)
    expect(rssi.unit_of_measurement).toBeUndefined()
    expect(rssi.device_class).toBeUndefined()
    expect((await last(seen, 'hearth/telemetry/pi-1/rssi')).payload).toBe('-61')
    // Each config reached the broker before the first state of its sensor.
    for (const metric of ['temperature', 'no2', 'rssi']) {
      const at = (topic: string) => seen.findIndex((m) => m.topic === topic)
      expect(at(configTopic('pi-1', metric))).toBeLessThan(at(`hearth/telemetry/pi-1/${metric}`))
    }
    // The availability topic it names is the one the hub keeps.
    await using watcher = await connect(t.mqttUrl, { ...login(credentials), clientId: 'pi-1-watch' })
    const status = new Promise<string>((resolve) =>
      watcher.on(
        'message',
        (topic, payload) => topic === 'devices/pi-1/status' && resolve(payload.toString()),
      ),
    )
    await watcher.subscribeAsync('devices/pi-1/status', { qos: 1 })
    expect(await status).toBe('online')
  })

  it('sends a config when a metric first appears and again when the device is renamed', async () => {
    await using t = await startTestHub(CONFIG)
    await using hass = await homeAssistant(t)
    const seen = record(hass)
    await hass.subscribeAsync('homeassistant/#', { qos: 1 })
    const res = await api(t, 'POST', '/devices', { id: 'porch', name: 'Porch' })
    const { credentials } = (await res.json()) as { credentials: DeviceCredentials }
    await using porch = await connect(t.mqttUrl, { ...login(credentials), clientId: 'porch' })
    await porch.publishAsync('devices/porch/telemetry', '{"temperature":8}', { qos: 1 })
    await last(seen, configTopic('porch', 'temperature'))

    await porch.publishAsync('devices/porch/telemetry', '{"humidity":71}', { qos: 1 })
    const humidity = JSON.parse((await last(seen, configTopic('porch', 'humidity'))).payload)
    expect(humidity).toMatchObject({ unit_of_measurement: '%', device_class: 'humidity' })

    expect((await api(t, 'PATCH', '/devices/porch', { name: 'Front porch' })).status).toBe(200)
    for (const metric of ['temperature', 'humidity']) {
      const renamed = await last(seen, configTopic('porch', metric), (m) => m.payload.includes('Front porch'))
      expect(JSON.parse(renamed.payload).device).toMatchObject({
        identifiers: ['hearth_porch'],
        name: 'Front porch',
      })
    }
  })

  it('clears the configs and states with empty retained payloads when the device is removed', async () => {
    await using t = await startTestHub(CONFIG)
    await using hass = await homeAssistant(t)
    const seen = record(hass)
    await hass.subscribeAsync(['homeassistant/#', 'hearth/telemetry/#'], { qos: 1 })
    const res = await api(t, 'POST', '/devices', { id: 'shed', name: 'Shed' })
    const { credentials } = (await res.json()) as { credentials: DeviceCredentials }
    await using shed = await connect(t.mqttUrl, { ...login(credentials), clientId: 'shed' })
    await shed.publishAsync('devices/shed/telemetry', '{"temperature":4,"battery":87}', { qos: 1 })
    await last(seen, 'hearth/telemetry/shed/battery')

    // Retained: a client subscribing later (Home Assistant after a restart) gets them.
    await using later = await hass.again()
    const retained = record(later)
    await later.subscribeAsync('homeassistant/#', { qos: 1 })
    expect((await last(retained, configTopic('shed', 'battery'))).retain).toBe(true)
    expect(JSON.parse((await last(retained, configTopic('shed', 'temperature'))).payload).unique_id).toBe(
      'hearth_shed_temperature',
    )

    expect((await api(t, 'DELETE', '/devices/shed')).status).toBe(204)
    for (const topic of [
      configTopic('shed', 'temperature'),
      configTopic('shed', 'battery'),
      'hearth/telemetry/shed/temperature',
      'hearth/telemetry/shed/battery',
    ])
      await last(seen, topic, (m) => m.payload === '')
    const left = await api(t, 'GET', '/retained?filter=homeassistant/%23')
    expect(((await left.json()) as { items: unknown[] }).items).toEqual([])
  })

  it('clears on start what belonged to a device removed while the hub was down', async () => {
    await using first = await startTestHub(CONFIG)
    const { credentials } = await createDevice(first.hub.db, { id: 'attic', name: 'Attic' })
    await using attic = await connect(first.mqttUrl, { ...login(credentials), clientId: 'attic' })
    await attic.publishAsync('devices/attic/telemetry', '{"temperature":30}', { qos: 1 })
    const retainedConfigs = async (t: TestHub) =>
      ((await (await api(t, 'GET', '/retained?filter=homeassistant/%23')).json()) as { items: unknown[] })
        .items
    await waitFor(async () => (await retainedConfigs(first)).length === 1, { what: 'the config, retained' })
    await attic.endAsync(true)
    const dataDir = first.dataDir
    await first.hub.stop()
    // `hearth device remove` from the CLI, with no hub to hear of it.
    const store = openStore(dataDir)
    store.db.run("DELETE FROM devices WHERE id = 'attic'")
    store.db.close()

    await using second = await startTestHub(CONFIG, { dataDir })
    await waitFor(async () => (await retainedConfigs(second)).length === 0, { what: 'the config cleared' })
  })

  it('never reads its own state topics as readings again, even under a rule that matches them', async () => {
    const loose = { topic: 'hearth/telemetry/+/+', device: 2, metric: 3 }
    await using t = await startTestHub({
      ...CONFIG,
      telemetry: { mqtt: [...CONFIG.telemetry.mqtt, loose] },
    })
    await using hass = await homeAssistant(t)
    const seen = record(hass)
    await hass.subscribeAsync('hearth/telemetry/#', { qos: 1 })
    const readings: string[] = []
    t.hub.bus.on('test', 'telemetry.reading', (e) => readings.push(e.detail.metric))
    const { credentials } = await createDevice(t.hub.db, { id: 'loop' })
    await using loop = await connect(t.mqttUrl, { ...login(credentials), clientId: 'loop' })
    await loop.publishAsync('devices/loop/telemetry', '{"temperature":1}', { qos: 1 })
    await last(seen, 'hearth/telemetry/loop/temperature')
    await loop.publishAsync('devices/loop/telemetry', '{"humidity":2}', { qos: 1 })
    await last(seen, 'hearth/telemetry/loop/humidity')
    expect(readings).toEqual(['temperature', 'humidity'])
  })

  it('publishes nothing unless homeAssistant.discovery is set', async () => {
    await using t = await startTestHub({ telemetry: CONFIG.telemetry })
    const { credentials } = await createDevice(t.hub.db, { id: 'pi-2' })
    await using pi = await connect(t.mqttUrl, { ...login(credentials), clientId: 'pi-2' })
    const stored = new Promise((resolve) => t.hub.bus.on('test', 'telemetry.reading', resolve))
    await pi.publishAsync('devices/pi-2/telemetry', '{"temperature":20}', { qos: 1 })
    await stored
    const all = await api(t, 'GET', '/retained?filter=%23')
    const topics = ((await all.json()) as { items: Array<{ topic: string }> }).items.map((i) => i.topic)
    expect(topics).toEqual(['devices/pi-2/status'])
  })
})
