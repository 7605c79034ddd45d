import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { configTemplate } from '../config/template.ts'
import { defaultTlsHosts, generateLocalTls, tlsDir } from '../tls/generate.ts'
import { type CliIo, type Command, type ParsedArgs, str } from './command.ts'
import { configFor } from './config.ts'
import { commandForm } from './invocation.ts'

export const init: Command = {
  name: 'init',
  summary: 'Write a commented hearth.toml listing every key and its default; --tls also makes certificates.',
  usage: '[--config FILE] [--force] [--tls [--tls-host NAME ...]]',
  options: {
    config: {
      type: 'string',
      short: 'c',
      value: 'FILE',
      description: 'the file to write (default ./hearth.toml)',
    },
    force: { type: 'boolean', description: 'overwrite an existing config file' },
    tls: {
      type: 'boolean',
      description: 'also make a local CA and a server certificate under <dataDir>/tls/ and set [mqtt.tls]',
    },
    'tls-host': {
      type: 'string',
      multiple: true,
      value: 'NAME',
      description:
        'another name or address for the server certificate, besides localhost and this host (repeat)',
    },
  },
  async run(args, io) {
    const file = resolve(io.cwd, str(args, 'config') ?? 'hearth.toml')
    const exists = existsSync(file)
    if (exists && !args.values.force) {
      // With --tls an existing config is kept: the user wants certificates for it.
      if (!args.values.tls) {
        io.err(`hearth: ${file} already exists (use --force to overwrite)\n`)
        return 1
      }
      io.out(`keeping ${file}\n`)
    } else {
      writeFileSync(file, configTemplate())
      io.out(`wrote ${file}\n`)
    }
    if (args.values.tls) return initTls(args, io, file)
    return 0
  },
}

/**
 * A local CA and a server certificate in `<dataDir>/tls/`, set in the config
 * file's `[mqtt.tls]` table when it has none yet, otherwise printed for the user to copy.
 */
async function initTls(args: ParsedArgs, io: CliIo, file: string): Promise<number> {
  const { config } = configFor({ ...args, values: { ...args.values, config: file } }, io)
  const extra = (args.values['tls-host'] as string[] | undefined) ?? []
  const tls = await generateLocalTls(tlsDir(config.dataDir), {
    hosts: defaultTlsHosts(extra),
    force: Boolean(args.values.force),
  })
  const q = (s: string) => JSON.stringify(s)
  const lines = [`cert = ${q(tls.cert)}`, `key = ${q(tls.key)}`, `ca = ${q(tls.caCert)}`]
  io.out(`wrote a local CA and a server certificate to ${tls.dir}
  valid for: ${tls.hosts.join(', ')}
`)
  if (setTlsKeys(file, lines)) {
    io.out(`set [mqtt.tls] cert, key and ca in ${file}: MQTT over TLS on port ${config.mqtt.tls.port}
`)
  } else {
    io.out(
      `${file} already sets mqtt.tls; to use the new files put these lines under its [mqtt.tls]:\n\n` +
        `${lines.join('\n')}\n\n(or set HEARTH_MQTT_TLS_CERT, HEARTH_MQTT_TLS_KEY and HEARTH_MQTT_TLS_CA)\n`,
    )
  }
  io.out(
    `Clients verify the hub with ${tls.caCert} (mosquitto_sub --cafile …, paho tls_set(ca_certs=…)).\n` +
      `Keep ${tls.caKey} private: it signs device certificates (${commandForm(io)} device cert <id>).\n`,
  )
  return 0
}

/**
 * Puts `lines` under the file's `[mqtt.tls]` header (the template has one, its keys commented
 * out), or appends the table. False when the table already sets a key: the user's file wins.
 */
function setTlsKeys(file: string, lines: string[]): boolean {
  const text = readFileSync(file, 'utf8')
  const rows = text.split('\n')
  const header = rows.findIndex((r) => r.trim() === '[mqtt.tls]')
  if (header < 0) {
    writeFileSync(file, `${text.endsWith('\n') ? text : `${text}\n`}\n[mqtt.tls]\n${lines.join('\n')}\n`)
    return true
  }
  const end = rows.findIndex((r, i) => i > header && r.trim().startsWith('['))
  const section = rows.slice(header + 1, end < 0 ? undefined : end)
  if (section.some((r) => /^\s*(cert|key|ca)\s*=/.test(r))) return false
  rows.splice(header + 1, 0, ...lines)
  writeFileSync(file, rows.join('\n'))
  return true
}
