import { z } from 'zod'
import type { DeviceAclRule } from './acl-rules.ts'
import type { PresetSettings } from './schema.ts'

export type { PresetSettings }

/** The firmware and tools a device can be registered for (`hearth device add <id> --preset …`). */
export const PRESET_NAMES = ['home-assistant', 'zigbee2mqtt', 'tasmota', 'shelly', 'esphome'] as const

export const presetNameSchema = z.enum(PRESET_NAMES)
export type PresetName = z.infer<typeof presetNameSchema>

/** Where a preset's device connects: what its settings screen asks for. */
export interface ConnectionInfo {
  host: string
  port: number
  id: string
  username: string
  password: string
}

interface Preset {
  tool: string
  docs: string
  rules: readonly DeviceAclRule[]
  settings(c: ConnectionInfo): Omit<PresetSettings, 'preset' | 'tool' | 'acl' | 'docs'>
}

const rw = (pattern: string): DeviceAclRule => ({ pattern, access: 'readwrite' })
const read = (pattern: string): DeviceAclRule => ({ pattern, access: 'read' })
const write = (pattern: string): DeviceAclRule => ({ pattern, access: 'write' })

// Topic trees, each from the tool's own documentation of its defaults:
// - Home Assistant (home-assistant.io/integrations/mqtt): discovery under `homeassistant/`, birth
//   and last will `homeassistant/status`; it subscribes to whatever entities name and publishes
//   to their command topics, which for the tools below are the trees listed here.
// - Zigbee2MQTT (zigbee2mqtt.io/guide/configuration/mqtt.html, …/homeassistant.html): base topic
//   `zigbee2mqtt` (friendly names may hold `/`), discovery topic `homeassistant`, status topic
//   `homeassistant/status`; it subscribes to its discovery topic to remove stale entries.
// - Tasmota (tasmota.github.io/docs/MQTT): FullTopic `%prefix%/%topic%/` with prefixes `cmnd`,
//   `stat`, `tele`; group topic `tasmotas`; fallback topic `<MqttClient>_fb`; discovery for
//   Home Assistant's Tasmota integration (SetOption19 0, the default) under `tasmota/discovery/`.
// - Shelly (shelly-api-docs.shelly.cloud): Gen1 publishes under `shellies/<device id>/`, listens
//   to `shellies/command` and announces on `shellies/announce`; Gen2+ uses `topic_prefix` (the
//   device id by default): `<prefix>/rpc` requests, `<prefix>/events/rpc`, `<prefix>/status/…`,
//   `<prefix>/online`, `<prefix>/command/…`.
// - ESPHome (esphome.io/components/mqtt): `topic_prefix` (the node name by default), its
//   `<prefix>/status` birth and will, discovery under `homeassistant/`, retained.
const PRESETS: Record<PresetName, Preset> = {
  'home-assistant': {
    tool: 'Home Assistant',
    docs: 'https://www.home-assistant.io/integrations/mqtt/',
    rules: [
      // `#` never reaches `$SYS/…` [MQTT-4.7.2-1], and no rule ever lets a device publish there.
      read('#'),
      rw('homeassistant/#'),
      write('zigbee2mqtt/#'),
      write('cmnd/#'),
      write('tasmota/discovery/#'),
      write('shellies/#'),
      write('+/rpc'),
      write('+/command/#'),
      write('+/+/+/command'),
      write('+/+/+/+/command'),
    ],
    settings: (c) => ({
      where: 'Settings → Devices & services → Add integration → MQTT',
      fields: [
        { label: 'Broker', value: c.host },
        { label: 'Port', value: String(c.port) },
        { label: 'Username', value: c.username },
        { label: 'Password', value: c.password },
        { label: 'Client ID', value: c.id },
        { label: 'Discovery prefix', value: 'homeassistant' },
      ],
      // Its broker settings live in the UI only: nothing to paste.
    }),
  },
  zigbee2mqtt: {
    tool: 'Zigbee2MQTT',
    docs: 'https://www.zigbee2mqtt.io/guide/configuration/mqtt.html',
    rules: [rw('zigbee2mqtt/#'), rw('homeassistant/#')],
    settings: (c) => ({
      where: 'configuration.yaml',
      fields: [
        { label: 'mqtt.server', value: `mqtt://${c.host}:${c.port}` },
        { label: 'mqtt.base_topic', value: 'zigbee2mqtt' },
        { label: 'mqtt.user', value: c.username },
        { label: 'mqtt.password', value: c.password },
        { label: 'mqtt.client_id', value: c.id },
      ],
      snippet: {
        format: 'yaml',
        text:
          `mqtt:\n  base_topic: zigbee2mqtt\n  server: mqtt://${c.host}:${c.port}\n` +
          `  user: ${c.username}\n  password: ${yamlString(c.password)}\n  client_id: ${c.id}\n` +
          'homeassistant:\n  enabled: true\n',
      },
    }),
  },
  tasmota: {
    tool: 'Tasmota',
    docs: 'https://tasmota.github.io/docs/MQTT/',
    rules: [
      read('cmnd/%u/#'),
      read('cmnd/tasmotas/#'),
      read('cmnd/%c_fb/#'),
      write('stat/%u/#'),
      write('tele/%u/#'),
      write('tasmota/discovery/#'),
    ],
    settings: (c) => ({
      where: 'Configuration → Configure MQTT, or the console',
      fields: [
        { label: 'Host', value: c.host },
        { label: 'Port', value: String(c.port) },
        { label: 'Client', value: c.id },
        { label: 'User', value: c.username },
        { label: 'Password', value: c.password },
        { label: 'Topic', value: c.id },
        { label: 'Full Topic', value: '%prefix%/%topic%/' },
      ],
      snippet: {
        format: 'console',
        text:
          `Backlog MqttHost ${c.host}; MqttPort ${c.port}; MqttClient ${c.id}; MqttUser ${c.username}; ` +
          `MqttPassword ${c.password}; Topic ${c.id}; FullTopic %prefix%/%topic%/\n`,
      },
    }),
  },
  shelly: {
    tool: 'Shelly',
    docs: 'https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Mqtt/',
    rules: [rw('shellies/#'), rw('%u/#')],
    settings: (c) => ({
      where: 'Settings → MQTT (Gen2+), or Internet & Security → Advanced developer settings (Gen1)',
      fields: [
        { label: 'Server', value: `${c.host}:${c.port}` },
        { label: 'Client ID', value: c.id },
        { label: 'Username', value: c.username },
        { label: 'Password', value: c.password },
        { label: 'MQTT prefix (Gen2+)', value: c.id },
      ],
      snippet: {
        format: 'shell',
        text: `curl -X POST http://<shelly address>/rpc -d '${JSON.stringify({
          id: 1,
          method: 'MQTT.SetConfig',
          params: {
            config: {
              enable: true,
              server: `${c.host}:${c.port}`,
              client_id: c.id,
              user: c.username,
              pass: c.password,
              topic_prefix: c.id,
              rpc_ntf: true,
              status_ntf: true,
            },
          },
        })}'\n`,
      },
    }),
  },
  esphome: {
    tool: 'ESPHome',
    docs: 'https://esphome.io/components/mqtt.html',
    rules: [rw('%u/#'), write('homeassistant/#'), read('homeassistant/status')],
    settings: (c) => ({
      where: 'the node YAML (and remove `api:` unless Home Assistant also uses the native API)',
      fields: [
        { label: 'broker', value: c.host },
        { label: 'port', value: String(c.port) },
        { label: 'username', value: c.username },
        { label: 'password', value: c.password },
        { label: 'client_id', value: c.id },
        { label: 'topic_prefix', value: c.id },
      ],
      snippet: {
        format: 'yaml',
        text:
          `mqtt:\n  broker: ${c.host}\n  port: ${c.port}\n  username: ${c.username}\n` +
          `  password: ${yamlString(c.password)}\n  client_id: ${c.id}\n  topic_prefix: ${c.id}\n` +
          '  discovery: true\n',
      },
    }),
  },
}

/** The ACL rules a preset grants (with `%u` = device id, `%c` = client id). */
export function presetRules(preset: PresetName): readonly DeviceAclRule[] {
  return PRESETS[preset].rules
}

/** The connection settings to paste into the preset's tool, with the credentials just issued. */
export function presetSettings(preset: PresetName, c: ConnectionInfo): PresetSettings {
  const p = PRESETS[preset]
  return { preset, tool: p.tool, docs: p.docs, acl: [...p.rules], ...p.settings(c) }
}

// Device passwords are URL-safe base64, which YAML could read as a number or a boolean only in
// theory; quoting keeps every one a string.
const yamlString = (s: string) => `"${s}"`
