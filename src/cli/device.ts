import type { Database } from 'bun:sqlite'
import { hostname } from 'node:os'
import type { Config } from '../config/schema.ts'
import {
  type DeviceAclRule,
  listDeviceAclRules,
  removeDeviceAclRule,
  setDeviceAclRule,
} from '../devices/acl-rules.ts'
import { createDeviceService, type DeviceService } from '../devices/device-service.ts'
import { PRESET_NAMES, type PresetName, type PresetSettings, presetSettings } from '../devices/presets.ts'
import { type Device, type DeviceCredentials, getDevice, listDevices } from '../devices/registry.ts'
import { openStore } from '../store/open.ts'
import { issueDeviceCertificate, tlsDir } from '../tls/generate.ts'
import { type CliIo, CONFIG_OPTION, type Command, type ParsedArgs, str, UsageError } from './command.ts'
import { configFor } from './config.ts'
import { eventLogBus } from './events.ts'
import { commandForm } from './invocation.ts'
import { printList, table } from './list.ts'

const ACCESS = ['read', 'write', 'readwrite'] as const

const SUBCOMMANDS = `
Subcommands:
  add <id> [--name N] [--preset P] [--json]
                                   register a device; prints its MQTT credentials once. A preset
                                   (${PRESET_NAMES.join(', ')})
                                   grants that tool's topic trees and prints its settings
  rotate <id> [--json]             new password (the old one stops working, live connections end)
  list [--json]                    every device, online or not, last seen
  show <id> [--json]               one device and its extra ACL rules
  rename <id> <name>               a new name for people (the id and credentials stay)
  remove <id>                      delete the device and its rules
  enable <id> | disable <id>       a disabled device is refused (CONNACK 5)
  allow <id> <pattern> [--access read|write|readwrite]   add an ACL rule (%u, %c, + and # allowed)
  disallow <id> <pattern>          remove that rule
  cert <id>                        client certificate from the local CA (hearth init --tls)`

/** `hearth device …`. Works next to a running hub: SQLite in WAL mode. */
export const device: Command = {
  name: 'device',
  summary: 'Manage MQTT devices: add (prints credentials once), rotate, list, show, remove, ACL rules.',
  usage: `<add|rotate|list|show|rename|remove|enable|disable|allow|disallow|cert> [<id>] [options]\n${SUBCOMMANDS}`,
  subcommands: [
    'add',
    'rotate',
    'list',
    'show',
    'rename',
    'remove',
    'enable',
    'disable',
    'allow',
    'disallow',
    'cert',
  ],
  options: {
    ...CONFIG_OPTION,
    name: { type: 'string', value: 'NAME', description: 'display name of the device (add)' },
    preset: {
      type: 'string',
      value: 'PRESET',
      choices: PRESET_NAMES,
      description: 'grant the topic trees of the firmware or tool the device runs (add)',
    },
    json: { type: 'boolean', description: 'print JSON instead of text (add, rotate, list, show)' },
    access: {
      type: 'string',
      value: 'ACCESS',
      choices: ACCESS,
      description: 'what an ACL rule lets the device do (allow; default readwrite)',
    },
  },
  async run(args, io) {
    const [sub, id, ...rest] = args.positionals
    if (!sub) throw new UsageError('which device subcommand?')
    const needId = () => {
      if (!id) throw new UsageError(`device ${sub} needs a device id`)
      return id
    }
    const { config } = configFor(args, io)
    const store = openStore(config.dataDir)
    try {
      const db = store.db
      const devices = createDeviceService({ db, bus: eventLogBus(db) })
      switch (sub) {
        case 'add':
          return await add({ db, devices, io, args, config }, needId())
        case 'rotate':
          return await rotate({ db, devices, io, args, config }, needId())
        case 'list':
          return list(db, io, args)
        case 'show':
          return show(db, io, args, needId())
        case 'rename':
          return rename(devices, io, needId(), rest.join(' '))
        case 'remove':
          return remove(devices, io, needId())
        case 'enable':
        case 'disable':
          return enable(devices, io, needId(), sub === 'enable')
        case 'allow':
          return allow(db, io, args, needId(), rest[0])
        case 'disallow':
          return disallow(db, io, needId(), rest[0])
        case 'cert':
          if (!getDevice(db, needId())) return notFound(io, needId())
          return await cert(io, tlsDir(config.dataDir), needId())
        default:
          throw new UsageError(`unknown device subcommand "${sub}"`)
      }
    } finally {
      store.db.close()
    }
  },
}

function printCredentials(
  io: CliIo,
  args: ParsedArgs,
  creds: DeviceCredentials,
  what: string,
  settings: PresetSettings | undefined,
) {
  if (args.values.json) {
    const out = { id: creds.id, username: creds.username, password: creds.password }
    io.out(`${JSON.stringify(settings ? { ...out, settings } : out)}\n`)
    return
  }
  io.out(
    `${what}. Its MQTT credentials are shown only now:\n` +
      `  username  ${creds.username}\n` +
      `  password  ${creds.password}\n` +
      `New ones: ${commandForm(io)} device rotate ${creds.id}\n`,
  )
  if (settings) io.out(formatSettings(settings))
}

/** A preset's settings as a person reads them: each field, the block to paste, the topics granted. */
function formatSettings(s: PresetSettings): string {
  const width = Math.max(...s.fields.map((f) => f.label.length))
  const patterns = Math.max(...s.acl.map((r) => r.pattern.length))
  return (
    `\n${s.tool} settings (${s.where}):\n` +
    s.fields.map((f) => `  ${f.label.padEnd(width)}  ${f.value}\n`).join('') +
    (s.snippet
      ? `\nor paste (${s.snippet.format}):\n\n${s.snippet.text.trimEnd().replace(/^/gm, '    ')}\n\n`
      : '\n') +
    'Topics granted (besides its own devices/<id>/#):\n' +
    s.acl.map((r) => `  ${r.pattern.padEnd(patterns)}  ${r.access}\n`).join('') +
    `See ${s.docs}\n`
  )
}

/**
 * The settings of a preset device as the CLI knows them: this machine's name (the CLI runs on
 * the hub's machine) and the configured MQTT port.
 */
function settingsOf(preset: PresetName | null, creds: DeviceCredentials, config: Config) {
  if (!preset) return undefined
  return presetSettings(preset, { host: hostname(), port: config.mqtt.port, ...creds })
}

/** What the subcommands that print credentials work with. */
interface CredentialsContext {
  db: Database
  devices: DeviceService
  io: CliIo
  args: ParsedArgs
  config: Config
}

async function add({ devices, io, args, config }: CredentialsContext, id: string): Promise<number> {
  const preset = str(args, 'preset')
  if (preset !== undefined && !(PRESET_NAMES as readonly string[]).includes(preset))
    throw new UsageError(`--preset must be one of ${PRESET_NAMES.join(', ')}`)
  const { device, credentials } = await devices.create({
    id,
    name: str(args, 'name'),
    preset: preset as PresetName | undefined,
  })
  const settings = settingsOf(device.preset, credentials, config)
  printCredentials(io, args, credentials, `device "${device.id}" added`, settings)
  return 0
}

async function rotate({ db, devices, io, args, config }: CredentialsContext, id: string): Promise<number> {
  const credentials = await devices.rotate(id)
  const settings = settingsOf(getDevice(db, id)?.preset ?? null, credentials, config)
  printCredentials(io, args, credentials, `device "${id}" has a new password`, settings)
  return 0
}

function list(db: Database, io: CliIo, args: ParsedArgs): number {
  const header = ['ID', 'NAME', 'STATE', 'LAST SEEN', 'LAST DISCONNECT']
  const row = (d: Device) => [d.id, d.name, state(d), time(d.lastSeen), d.lastDisconnectReason ?? '-']
  const empty = `no devices yet (${commandForm(io)} device add <id>)\n`
  return printList(io, args, listDevices(db), (devices) => table(header, devices.map(row)), empty)
}

function show(db: Database, io: CliIo, args: ParsedArgs, id: string): number {
  const d = getDevice(db, id)
  if (!d) return notFound(io, id)
  const rules = listDeviceAclRules(db, id)
  if (args.values.json) {
    io.out(`${JSON.stringify({ ...d, acl: rules })}\n`)
    return 0
  }
  io.out(
    `id          ${d.id}\nname        ${d.name}\nusername    ${d.username}\nstate       ${state(d)}\n` +
      `created     ${time(d.createdAt)}\nlast seen   ${time(d.lastSeen)}\n` +
      `last client ${d.lastClientId ?? '-'} from ${d.lastAddress ?? '-'}\n` +
      `disconnect  ${d.lastDisconnectReason ?? '-'}\n` +
      `preset      ${d.preset ?? '-'}\n` +
      `acl         devices/${d.id}/# readwrite (default)\n` +
      rules.map((r) => `            ${r.pattern} ${r.access}\n`).join(''),
  )
  return 0
}

function rename(devices: DeviceService, io: CliIo, id: string, name: string): number {
  if (!name.trim()) throw new UsageError('device rename needs a name: hearth device rename <id> <name>')
  const after = devices.rename(id, name)
  if (!after) return notFound(io, id)
  io.out(`device "${id}" is now named "${after.name}"\n`)
  return 0
}

// A running hub notices the change within a moment and ends the device's live connections.
function remove(devices: DeviceService, io: CliIo, id: string): number {
  if (!devices.remove(id)) return notFound(io, id)
  io.out(`device "${id}" removed (a live connection ends)\n`)
  return 0
}

function enable(devices: DeviceService, io: CliIo, id: string, on: boolean): number {
  if (!devices.setEnabled(id, on)) return notFound(io, id)
  io.out(`device "${id}" ${on ? 'enabled' : 'disabled (refused, a live connection ends)'}\n`)
  return 0
}

function allow(db: Database, io: CliIo, args: ParsedArgs, id: string, pattern: string | undefined): number {
  if (!pattern) throw new UsageError('device allow needs a topic pattern')
  const access = str(args, 'access') ?? 'readwrite'
  if (!(ACCESS as readonly string[]).includes(access))
    throw new UsageError(`--access must be one of ${ACCESS.join(', ')}`)
  const rule = setDeviceAclRule(db, id, { pattern, access: access as DeviceAclRule['access'] })
  io.out(`device "${id}" may now ${rule.access} ${rule.pattern}\n`)
  return 0
}

function disallow(db: Database, io: CliIo, id: string, pattern: string | undefined): number {
  if (!pattern) throw new UsageError('device disallow needs a topic pattern')
  if (!removeDeviceAclRule(db, id, pattern)) {
    io.err(`hearth: device "${id}" has no rule "${pattern}"\n`)
    return 1
  }
  io.out(`rule "${pattern}" of device "${id}" removed\n`)
  return 0
}

async function cert(io: CliIo, dir: string, id: string): Promise<number> {
  const files = await issueDeviceCertificate(dir, id)
  io.out(
    `client certificate for "${id}" (CN=${id}):\n  cert  ${files.cert}\n  key   ${files.key}\n  ca    ${files.ca}\n` +
      'The hub accepts it when mqtt.tls.requireClientCert = true and mqtt.tls.ca is that CA.\n',
  )
  return 0
}

function notFound(io: CliIo, id: string): number {
  io.err(`hearth: no device "${id}"\n`)
  return 1
}

const state = (d: Device) => (d.enabled ? (d.online ? 'online' : 'offline') : 'disabled')
const time = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'))
