import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { loadConfig } from '../config/load.ts'
import { type Config, configSchema } from '../config/schema.ts'
import { lockHolder } from '../store/lock.ts'
import { type CliIo, type Command, type ParsedArgs, str, UsageError } from './command.ts'
import { commandForm } from './invocation.ts'
import {
  SERVICE_CONFIG,
  SERVICE_DATA_DIR,
  SYSUSERS_PATH,
  serviceConfig,
  serviceUnit,
  sysusersEntry,
  UNIT_NAME,
  UNIT_PATH,
} from './service-unit.ts'

const SUBCOMMANDS = `
Subcommands:
  install     write ${UNIT_PATH}, create the system user, write ${SERVICE_CONFIG} when missing
  uninstall   remove the unit (the config, the data in ${SERVICE_DATA_DIR} and the user stay)`

// A binary there is out of the service's sight: ProtectHome hides /home and /root, PrivateTmp /tmp.
const HIDDEN_FROM_SERVICE = /^\/(home|root|tmp|var\/tmp|run\/user)\//

interface PlannedFile {
  /** Path on the target system (without --root). */
  path: string
  mode: number
  owner: string
  content: string
}

/** `hearth service install|uninstall`: run the hub under systemd on a mini PC or a Pi. */
export const service: Command = {
  name: 'service',
  summary:
    'Install Hearth as a systemd service (unit, system user, /etc/hearth/hearth.toml), or uninstall it.',
  usage: `<install|uninstall> [--user NAME] [--dry-run] [--root DIR]\n${SUBCOMMANDS}`,
  subcommands: ['install', 'uninstall'],
  options: {
    user: {
      type: 'string',
      value: 'NAME',
      description: 'the account the hub runs as (default hearth; created as a system user)',
    },
    'dry-run': {
      type: 'boolean',
      description: 'print every file that would be written, with its mode and owner, and change nothing',
    },
    root: {
      type: 'string',
      value: 'DIR',
      description: 'install under DIR instead of / (an image being prepared, or a test)',
    },
  },
  async run(args, io) {
    const [sub, extra] = args.positionals
    if (extra) throw new UsageError(`unexpected argument "${extra}"`)
    const root = resolve(io.cwd, str(args, 'root') ?? '/')
    const dryRun = Boolean(args.values['dry-run'])
    try {
      if (sub === 'install') return install(io, args, root, dryRun)
      if (sub === 'uninstall') return uninstall(io, root, dryRun)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EACCES' || code === 'EPERM') {
        io.err(
          `hearth service: ${(err as Error).message}; run it as root (sudo ${commandForm(io)} service ${sub})\n`,
        )
        return 1
      }
      throw err
    }
    throw new UsageError(sub ? `unknown service subcommand "${sub}"` : 'which service subcommand?')
  },
}

function install(io: CliIo, args: ParsedArgs, root: string, dryRun: boolean): number {
  const user = str(args, 'user') ?? 'hearth'
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) {
    throw new UsageError('--user takes a system account name: lower-case letters, digits, _ and -')
  }
  const binary = io.invocation?.binary
  if (!binary) {
    io.err(
      'hearth service: a service runs the compiled binary, and this is a source checkout. First:\n' +
        '  npm run build\n  sudo install -m 755 dist/hearth /usr/local/bin/hearth\n  sudo hearth service install\n',
    )
    return 1
  }
  if (HIDDEN_FROM_SERVICE.test(binary)) {
    io.err(
      `hearth service: warning: the service cannot see ${binary} (ProtectHome/PrivateTmp); ` +
        'install it first: sudo install -m 755 <binary> /usr/local/bin/hearth\n',
    )
  }
  const at = (path: string) => join(root, path)
  const configExists = existsSync(at(SERVICE_CONFIG))
  const config = configExists ? serviceFileConfig(at(SERVICE_CONFIG)) : defaultConfig()
  const files: PlannedFile[] = [
    {
      path: UNIT_PATH,
      mode: 0o644,
      owner: 'root',
      content: serviceUnit({
        binary,
        user,
        privilegedPorts: privilegedPorts(config),
        maxConnections: config.mqtt.maxConnections,
      }),
    },
  ]
  if (user !== 'root')
    files.push({ path: SYSUSERS_PATH, mode: 0o644, owner: 'root', content: sysusersEntry(user) })
  // The config may come to hold secrets: readable by the service account only.
  if (!configExists) files.push({ path: SERVICE_CONFIG, mode: 0o600, owner: user, content: serviceConfig() })
  const sysusers = ['systemd-sysusers', ...(root === '/' ? [] : [`--root=${root}`]), at(SYSUSERS_PATH)]

  if (dryRun) {
    io.out(`# hearth service install --dry-run${root === '/' ? '' : ` --root ${root}`}: nothing is changed\n`)
    for (const f of files) {
      io.out(`--- ${at(f.path)} (mode ${octal(f.mode)}, owner ${f.owner}) ---\n${f.content}`)
    }
    if (configExists) io.out(`--- ${at(SERVICE_CONFIG)} exists: kept as it is ---\n`)
    if (user !== 'root') io.out(`would run: ${sysusers.join(' ')}\n`)
    io.out(nextSteps(io, root, user))
    return 0
  }

  for (const f of files.filter((x) => x.owner === 'root')) writeFile(at(f.path), f)
  if (user !== 'root') {
    const res = Bun.spawnSync(sysusers, { stdout: 'pipe', stderr: 'pipe' })
    if (!res.success) {
      io.err(`hearth service: ${sysusers.join(' ')} failed: ${res.stderr.toString().trim()}\n`)
      return 1
    }
  }
  const account = user === 'root' ? { uid: 0, gid: 0 } : lookupAccount(root, user)
  if (!account) {
    io.err(`hearth service: no account "${user}" in ${at('/etc/passwd')} after systemd-sysusers\n`)
    return 1
  }
  for (const f of files.filter((x) => x.owner !== 'root')) {
    writeFile(at(f.path), f)
    chownSync(at(f.path), account.uid, account.gid)
  }
  for (const f of files) io.out(`wrote ${at(f.path)} (mode ${octal(f.mode)}, owner ${f.owner})\n`)
  if (configExists) io.out(`kept ${at(SERVICE_CONFIG)}\n`)
  io.out(`the hub runs as "${user}" (uid ${account.uid}) with its data in ${SERVICE_DATA_DIR}\n`)
  io.out(nextSteps(io, root, user))
  return 0
}

function uninstall(io: CliIo, root: string, dryRun: boolean): number {
  const at = (path: string) => join(root, path)
  const holder = lockHolder(at(SERVICE_DATA_DIR))
  if (holder) {
    io.err(
      `hearth service: the hub (pid ${holder.pid ?? 'not known yet'}) is running on ${at(SERVICE_DATA_DIR)}; ` +
        `stop it first: systemctl disable --now ${UNIT_NAME}\n`,
    )
    return 1
  }
  // `systemctl enable` links the unit here; the link would dangle once the unit is gone.
  const wants = at(`/etc/systemd/system/multi-user.target.wants/${UNIT_NAME}`)
  const targets = [at(UNIT_PATH), wants].filter((p) => exists(p))
  if (targets.length === 0) {
    io.out(`no unit at ${at(UNIT_PATH)}: nothing to remove\n`)
    return 0
  }
  for (const p of targets) {
    if (!dryRun) rmSync(p, { force: true })
    io.out(`${dryRun ? 'would remove' : 'removed'} ${p}\n`)
  }
  io.out(
    `kept ${at(SERVICE_CONFIG)}, the data in ${at(SERVICE_DATA_DIR)} and the service account\n` +
      (root === '/' ? 'then: systemctl daemon-reload\n' : ''),
  )
  return 0
}

/** The config the service will read: that file and no environment (a unit passes none but the data dir). */
function serviceFileConfig(file: string): Config {
  return loadConfig({ file, env: { HEARTH_DATA_DIR: SERVICE_DATA_DIR }, cwd: dirname(file) }).config
}

function defaultConfig(): Config {
  return configSchema.parse({ dataDir: SERVICE_DATA_DIR })
}

function privilegedPorts(config: Config): number[] {
  const ports = [config.mqtt.port, config.http.port]
  if (config.mqtt.tls.cert) ports.push(config.mqtt.tls.port)
  return [...new Set(ports.filter((p) => p > 0 && p < 1024))].sort((a, b) => a - b)
}

function nextSteps(io: CliIo, root: string, user: string): string {
  const form = commandForm(io)
  const live = root === '/'
  return (
    `\n${live ? 'Next' : `Then, on the system at ${root}`}:\n` +
    `  systemctl daemon-reload && systemctl enable --now ${UNIT_NAME}\n` +
    `  journalctl -u hearth -f      # logs; the first start prints the admin password (also in ${SERVICE_DATA_DIR}/initial-admin-password)\n` +
    `  ${user === 'root' ? '' : `sudo -u ${user} `}${form} device add <id>   # CLI commands read ${SERVICE_CONFIG}; run them as the service account\n` +
    `A port below 1024 set later in ${SERVICE_CONFIG} needs "${form} service install" again.\n`
  )
}

function writeFile(path: string, f: PlannedFile) {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, f.content, { mode: f.mode })
  // The mode given to writeFileSync applies only to a new file (and passes through the umask).
  chmodSync(path, f.mode)
}

function exists(path: string): boolean {
  try {
    lstatSync(path)
    return true
  } catch {
    return false
  }
}

function octal(mode: number): string {
  return `0${mode.toString(8)}`
}

/** uid and gid of `user` in the target system's /etc/passwd. */
function lookupAccount(root: string, user: string): { uid: number; gid: number } | undefined {
  let passwd: string
  try {
    passwd = readFileSync(join(root, 'etc/passwd'), 'utf8')
  } catch {
    return undefined
  }
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid] = line.split(':')
    if (name === user && uid && gid) return { uid: Number(uid), gid: Number(gid) }
  }
  return undefined
}
