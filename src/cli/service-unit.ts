// What `hearth service install` writes: the systemd unit, the sysusers.d entry for the service user,
// and the config file. Pure functions of their inputs, so a dry run prints exactly what an install
// writes. Directives: systemd.exec(5), systemd.service(5), systemd.resource-control(5), sysusers.d(5).
import { configTemplate } from '../config/template.ts'

export const UNIT_NAME = 'hearth.service'
export const UNIT_PATH = '/etc/systemd/system/hearth.service'
export const SYSUSERS_PATH = '/etc/sysusers.d/hearth.conf'
export const SERVICE_CONFIG = '/etc/hearth/hearth.toml'
/** `StateDirectory=hearth` makes and owns this directory for the service user. */
export const SERVICE_DATA_DIR = '/var/lib/hearth'

/** Descriptors beyond one per MQTT connection: HTTP and WebSocket clients, SQLite, outbound requests. */
const FD_HEADROOM = 4096

interface UnitOptions {
  /** Absolute path of the binary `ExecStart` runs. */
  binary: string
  /** The account the hub runs as; `root` means no `User=` line and no sysusers entry. */
  user: string
  /** Configured listener ports below 1024 (they need CAP_NET_BIND_SERVICE). */
  privilegedPorts: number[]
  maxConnections: number
}

/** A path as one `ExecStart` word: `%` is a specifier character, blanks need quotes. */
function execWord(path: string): string {
  const escaped = path.replaceAll('%', '%%')
  return /\s/.test(escaped) ? `"${escaped}"` : escaped
}

export function serviceUnit(o: UnitOptions): string {
  const privileged = o.privilegedPorts.length > 0
  const lines = [
    '# Written by `hearth service install`; `hearth service uninstall` removes it (never the data).',
    '[Unit]',
    'Description=Hearth home hub (MQTT broker, HTTP API, rules, schedules, bridges)',
    'After=network-online.target',
    'Wants=network-online.target',
    // Restart=on-failure must not loop for ever over a start that cannot succeed (a failing
    // upgrade, a port in use): five failed starts within five minutes leave the unit failed.
    'StartLimitIntervalSec=300',
    'StartLimitBurst=5',
    '',
    '[Service]',
    'Type=simple',
    ...(o.user === 'root' ? [] : [`User=${o.user}`, `Group=${o.user}`]),
    `ExecStart=${execWord(o.binary)} serve --config ${SERVICE_CONFIG}`,
    // SIGHUP reloads the config file without dropping connections.
    'ExecReload=/bin/kill -HUP $MAINPID',
    'Restart=on-failure',
    'RestartSec=2s',
    // The hub stops within 5 s of SIGTERM; past that it exits 1 by itself.
    'TimeoutStopSec=15s',
    `Environment=HEARTH_DATA_DIR=${SERVICE_DATA_DIR}`,
    'StateDirectory=hearth',
    'StateDirectoryMode=0750',
    `LimitNOFILE=${o.maxConnections + FD_HEADROOM}`,
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'SystemCallArchitectures=native',
    // No MemoryDenyWriteExecute: the JavaScript JIT writes the code it runs.
    ...(privileged
      ? [
          `# ports ${o.privilegedPorts.join(', ')} are below 1024: binding them is the one privilege kept`,
          'CapabilityBoundingSet=CAP_NET_BIND_SERVICE',
          'AmbientCapabilities=CAP_NET_BIND_SERVICE',
        ]
      : ['CapabilityBoundingSet=']),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  ]
  return `${lines.join('\n')}\n`
}

/** The sysusers.d(5) line that creates the system user (and its group) when it is missing. */
export function sysusersEntry(user: string): string {
  return `# Written by \`hearth service install\`: the account the hub runs as.\nu ${user} - "Hearth home hub" ${SERVICE_DATA_DIR}\n`
}

/**
 * The `hearth init` template with `dataDir` set: the unit passes HEARTH_DATA_DIR as well, and the
 * line lets `hearth …` commands typed in a shell, which read this file, find the same database.
 */
export function serviceConfig(): string {
  const template = configTemplate()
  const line = '# dataDir = "./data"'
  if (!template.includes(line)) throw new Error('the config template no longer has a dataDir line')
  return template.replace(
    line,
    `# the service also gets it as HEARTH_DATA_DIR (StateDirectory=hearth)\ndataDir = "${SERVICE_DATA_DIR}"`,
  )
}
