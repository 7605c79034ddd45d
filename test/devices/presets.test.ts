// Device presets: each tool's real topics, used by a real MQTT client with the preset's device
// credentials, are served (messages arrive), and a topic outside the preset is still denied.
import { describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { listDeviceAclRules } from '../../src/devices/acl-rules.ts'
import { PRESET_NAMES, type PresetName, presetRules } from '../../src/devices/presets.ts'
import { createDevice, type DeviceCredentials, getDevice } from '../../src/devices/registry.ts'
import { migrate } from '../../src/store/migrate.ts'
import { MIGRATIONS } from '../../src/store/migrations/index.ts'
import { openDatabase } from '../../src/store/open.ts'
import { collect, connect, login, nextMessage, run } from '../broker/mqtt-fixture.ts'
import { subscribed } from '../broker/raw-mqtt.ts'
import { startTestHub, type TestHub, tempDir } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'

async function addPreset(t: TestHub, id: string, preset: PresetName): Promise<DeviceCredentials> {
  return (await createDevice(t.hub.db, { id, preset })).credentials
}

/** SUBACK return codes of one SUBSCRIBE, in the order of the filters (0x80 = refused). */
async function suback(client: MqttClient, filters: string[]): Promise<number[]> {
  // mqtt.js rejects a SUBACK holding 0x80; the packet is on the error.
  return client.subscribeAsync(filters, { qos: 1 }).then(
    (res) => res.map((g) => g.qos),
    (err: { packet?: { granted?: number[] } }) => err.packet?.granted ?? [-1],
  )
}

/** Publishes and resolves once `to` has received the message on that topic. */
async function delivered(from: MqttClient, to: MqttClient, topic: string, payload: string, retain = false) {
  const got = nextMessage(to, topic)
  await from.publishAsync(topic, payload, { qos: 1, retain })
  expect((await got).payload).toBe(payload)
}

/**
 * A PUBLISH outside the preset is acknowledged and dropped: recorded as `acl.denied`, and the
 * observer receives the permitted message sent right after it, never the denied one.
 */
async function droppedThenMarker(
  t: TestHub,
  from: MqttClient,
  observer: MqttClient,
  denied: string,
  marker: string,
) {
  const events = collect(t, 'acl.denied')
  const seen: string[] = []
  observer.on('message', (topic) => seen.push(topic))
  const got = nextMessage(observer, marker)
  await from.publishAsync(denied, 'x', { qos: 1 })
  await from.publishAsync(marker, 'after', { qos: 1 })
  await got
  expect(seen).not.toContain(denied)
  await waitFor(() => events.some((e) => e.detail.topic === denied), { what: `acl.denied for ${denied}` })
}

describe('device presets', () => {
  it('stores every preset with its documented topic trees as ordinary ACL rules of the device', async () => {
    await using t = await startTestHub()
    for (const preset of PRESET_NAMES) {
      const { device } = await createDevice(t.hub.db, { id: `d-${preset}`, preset })
      expect(device.preset).toBe(preset)
      expect(listDeviceAclRules(t.hub.db, device.id)).toEqual(
        [...presetRules(preset)].sort((a, b) => (a.pattern < b.pattern ? -1 : 1)),
      )
    }
    expect(presetRules('tasmota')).toEqual([
      { pattern: 'cmnd/%u/#', access: 'read' },
      { pattern: 'cmnd/tasmotas/#', access: 'read' },
      { pattern: 'cmnd/%c_fb/#', access: 'read' },
      { pattern: 'stat/%u/#', access: 'write' },
      { pattern: 'tele/%u/#', access: 'write' },
      { pattern: 'tasmota/discovery/#', access: 'write' },
    ])
  })

  it('reads a device registered before presets existed as one without a preset', () => {
    using dir = tempDir()
    const db = openDatabase(join(dir.path, 'old.db'))
    migrate(db, MIGRATIONS, 12)
    db.run(
      `INSERT INTO devices (id, name, username, password_hash, created_at, credentials_at)
       VALUES ('old', 'Old', 'old', '', 1, 1)`,
    )
    migrate(db)
    expect(getDevice(db, 'old')).toMatchObject({ id: 'old', preset: null })
    db.close()
  })

  it('serves Home Assistant: it reads everything but $SYS and writes commands, discovery and its birth message', async () => {
    await using t = await startTestHub()
    const ha = await addPreset(t, 'home-assistant', 'home-assistant')
    const esp = await addPreset(t, 'kitchen', 'esphome')
    await using hass = await connect(t.mqttUrl, { ...login(ha), clientId: 'home-assistant' })
    await using node = await connect(t.mqttUrl, { ...login(esp), clientId: 'kitchen' })
    expect(await suback(hass, ['#', '$SYS/#', '$SYS/broker/uptime'])).toEqual([1, 128, 128])
    await node.subscribeAsync(['kitchen/#', 'homeassistant/status'], { qos: 1 })

    // Birth message, and a command to an ESPHome node's command topic.
    await delivered(hass, node, 'homeassistant/status', 'online')
    await delivered(hass, node, 'kitchen/switch/fan/command', 'ON')
    // Everything devices publish reaches it, the hub's own availability topic included.
    await delivered(node, hass, 'kitchen/sensor/temperature/state', '21.5')

    // It may not write a device's status, nor anything under $SYS.
    await droppedThenMarker(t, hass, node, 'kitchen/status', 'kitchen/switch/fan/command')
    const events = collect(t, 'acl.denied')
    await hass.publishAsync('$SYS/broker/uptime', '0', { qos: 1 })
    await waitFor(() => events.some((e) => e.detail.topic === '$SYS/broker/uptime'), { what: '$SYS denied' })
  })

  it('serves Zigbee2MQTT on its base topic and Home Assistant discovery', async () => {
    await using t = await startTestHub()
    const ha = await addPreset(t, 'hass', 'home-assistant')
    const z2m = await addPreset(t, 'zigbee2mqtt', 'zigbee2mqtt')
    await using hass = await connect(t.mqttUrl, { ...login(ha), clientId: 'hass' })
    await using bridge = await connect(t.mqttUrl, { ...login(z2m), clientId: 'zigbee2mqtt' })
    expect(await suback(bridge, ['zigbee2mqtt/#', 'homeassistant/#', '#', 'cmnd/#'])).toEqual([
      1, 1, 128, 128,
    ])
    await hass.subscribeAsync('#', { qos: 1 })

    await delivered(bridge, hass, 'zigbee2mqtt/bridge/state', '{"state":"online"}', true)
    await delivered(bridge, hass, 'zigbee2mqtt/kitchen/lamp', '{"state":"ON","brightness":200}')
    await delivered(
      bridge,
      hass,
      'homeassistant/light/0x00158d0001/light/config',
      '{"state_topic":"zigbee2mqtt/kitchen/lamp"}',
      true,
    )
    await delivered(hass, bridge, 'zigbee2mqtt/kitchen/lamp/set', '{"state":"OFF"}')
    await delivered(hass, bridge, 'homeassistant/status', 'online')
    await droppedThenMarker(t, bridge, hass, 'cmnd/plug/POWER', 'zigbee2mqtt/kitchen/lamp')
  })

  it('serves Tasmota on cmnd, stat and tele of its topic, its group and fallback topics and its discovery (mosquitto clients as Home Assistant)', async () => {
    await using t = await startTestHub()
    const ha = await addPreset(t, 'hass', 'home-assistant')
    const plug = await addPreset(t, 'plug-1', 'tasmota')
    await using tasmota = await connect(t.mqttUrl, {
      ...login(plug),
      clientId: 'plug-1',
      will: { topic: 'tele/plug-1/LWT', payload: Buffer.from('Offline'), qos: 1, retain: true },
    })
    expect(
      await suback(tasmota, [
        'cmnd/plug-1/#',
        'cmnd/tasmotas/#',
        'cmnd/plug-1_fb/#',
        'cmnd/#',
        'stat/plug-1/#',
      ]),
    ).toEqual([1, 1, 1, 128, 128])

    // Home Assistant's side is Debian's mosquitto_sub and mosquitto_pub with the HA preset.
    const base = ['-h', '127.0.0.1', '-p', String(t.mqttPort), '-u', ha.username, '-P', ha.password]
    const sub = run([
      'mosquitto_sub',
      ...base,
      '-i',
      'hass-sub',
      '-t',
      'stat/plug-1/#',
      '-t',
      'tele/plug-1/#',
      '-t',
      'tasmota/discovery/#',
      '-C',
      '4',
      '-F',
      '%t %p',
    ])
    await subscribed(t.hub.broker, 'hass-sub')
    await tasmota.publishAsync('tele/plug-1/LWT', 'Online', { qos: 1, retain: true })
    await tasmota.publishAsync('tasmota/discovery/A0B1C2D3E4F5/config', '{"t":"plug-1"}', {
      qos: 1,
      retain: true,
    })
    await tasmota.publishAsync('tele/plug-1/SENSOR', '{"ENERGY":{"Power":12}}', { qos: 1 })
    await tasmota.publishAsync('stat/plug-1/POWER', 'ON', { qos: 1 })
    const got = await sub
    expect(got.code).toBe(0)
    expect(got.out.trim().split('\n')).toEqual([
      'tele/plug-1/LWT Online',
      'tasmota/discovery/A0B1C2D3E4F5/config {"t":"plug-1"}',
      'tele/plug-1/SENSOR {"ENERGY":{"Power":12}}',
      'stat/plug-1/POWER ON',
    ])

    for (const topic of ['cmnd/plug-1/POWER', 'cmnd/tasmotas/POWER', 'cmnd/plug-1_fb/POWER']) {
      const got = nextMessage(tasmota, topic)
      expect((await run(['mosquitto_pub', ...base, '-t', topic, '-m', 'TOGGLE', '-q', '1'])).code).toBe(0)
      expect((await got).payload).toBe('TOGGLE')
    }

    // Another device's tree stays closed: a Tasmota credential cannot speak for another plug.
    await using watcher = await connect(t.mqttUrl, { ...login(ha), clientId: 'hass-watch' })
    await watcher.subscribeAsync('#', { qos: 1 })
    await droppedThenMarker(t, tasmota, watcher, 'stat/plug-2/POWER', 'stat/plug-1/POWER')
  })

  it('serves Shelly Gen1 under shellies/ and Gen2 under its topic prefix', async () => {
    await using t = await startTestHub()
    const ha = await addPreset(t, 'hass', 'home-assistant')
    const gen1 = await addPreset(t, 'shelly1-B929CC', 'shelly')
    const gen2 = await addPreset(t, 'shellyplus1-a8032ab12345', 'shelly')
    await using hass = await connect(t.mqttUrl, { ...login(ha), clientId: 'hass' })
    await using one = await connect(t.mqttUrl, { ...login(gen1), clientId: 'shelly1-B929CC' })
    await using plus = await connect(t.mqttUrl, { ...login(gen2), clientId: 'shellyplus1-a8032ab12345' })
    await hass.subscribeAsync('#', { qos: 1 })
    expect(await suback(one, ['shellies/shelly1-B929CC/relay/0/command', 'shellies/command', '#'])).toEqual([
      1, 1, 128,
    ])
    expect(
      await suback(plus, [
        'shellyplus1-a8032ab12345/rpc',
        'shellyplus1-a8032ab12345/command/#',
        'shellies/#',
      ]),
    ).toEqual([1, 1, 1])

    await delivered(one, hass, 'shellies/shelly1-B929CC/relay/0', 'on')
    await delivered(one, hass, 'shellies/announce', '{"id":"shelly1-B929CC"}')
    await delivered(hass, one, 'shellies/shelly1-B929CC/relay/0/command', 'off')
    await delivered(hass, one, 'shellies/command', 'announce')

    const prefix = 'shellyplus1-a8032ab12345'
    await delivered(plus, hass, `${prefix}/online`, 'true', true)
    await delivered(plus, hass, `${prefix}/status/switch:0`, '{"id":0,"output":true}')
    await delivered(plus, hass, `${prefix}/events/rpc`, '{"method":"NotifyStatus"}')
    await delivered(
      hass,
      plus,
      `${prefix}/rpc`,
      '{"id":1,"src":"hass","method":"Switch.Set","params":{"id":0,"on":false}}',
    )
    await delivered(hass, plus, `${prefix}/command/switch:0`, 'toggle')
    await droppedThenMarker(t, plus, hass, 'tele/other/STATE', `${prefix}/online`)
  })

  it('serves ESPHome under its topic prefix, with discovery and Home Assistant birth messages', async () => {
    await using t = await startTestHub()
    const ha = await addPreset(t, 'hass', 'home-assistant')
    const esp = await addPreset(t, 'livingroom', 'esphome')
    await using hass = await connect(t.mqttUrl, { ...login(ha), clientId: 'hass' })
    await using node = await connect(t.mqttUrl, {
      ...login(esp),
      clientId: 'livingroom',
      will: { topic: 'livingroom/status', payload: Buffer.from('offline'), qos: 1, retain: true },
    })
    await hass.subscribeAsync('#', { qos: 1 })
    expect(
      await suback(node, [
        'livingroom/switch/fan/command',
        'homeassistant/status',
        'homeassistant/#',
        'other/#',
      ]),
    ).toEqual([1, 1, 128, 128])

    await delivered(node, hass, 'livingroom/status', 'online', true)
    await delivered(
      node,
      hass,
      'homeassistant/sensor/livingroom/temperature/config',
      '{"stat_t":"livingroom/sensor/temperature/state"}',
      true,
    )
    await delivered(node, hass, 'livingroom/sensor/temperature/state', '22.1')
    await delivered(hass, node, 'livingroom/switch/fan/command', 'ON')
    await delivered(hass, node, 'homeassistant/status', 'online')
    await droppedThenMarker(t, node, hass, 'zigbee2mqtt/bridge/request/permit_join', 'livingroom/status')
  })
})
