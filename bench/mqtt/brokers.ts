// The two brokers bench/mqtt.ts compares, and what /proc says about them. Both listen on
// 127.0.0.1 only and are stopped by the bench (also when it fails).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { ensureBinary } from '../../test/helpers/binary.ts'
import { spawnHub } from '../../test/helpers/process.ts'

export interface Target<Name extends string = 'hub' | 'mosquitto'> extends AsyncDisposable {
  /** `floor` is bench/mqtt/floor.ts, measured in the latency scenario only. */
  name: Name
  port: number
  pid: number
  /** What was changed from the broker's defaults, to print with the figures. */
  settings: string
}

/** The hub's limits that would measure the limiter, not the broker, raised; everything else default. */
export const HUB_ENV = {
  HEARTH_MQTT_ALLOW_ANONYMOUS: 'true',
  HEARTH_MQTT_ANONYMOUS_ACL: JSON.stringify([{ pattern: '#', access: 'readwrite' }]),
  // 5,000 connects from one address; the default (50/s) is for the internet.
  HEARTH_MQTT_CONNECT_RATE_PER_ADDRESS: '1000000',
  HEARTH_MQTT_MAX_CONNECTIONS: '20000',
  // The storm has 100 connections mid-CONNECT at once from one address; the default cap (64) is
  // for the internet, where one address opening that many is an attack.
  HEARTH_MQTT_MAX_PENDING_CONNECTIONS_PER_ADDRESS: '10000',
  // Per-client token buckets (default 1,000 msg/s, 4 MiB/s) would cap each publisher.
  HEARTH_MQTT_INBOUND_MESSAGES_PER_SECOND: '1000000000',
  HEARTH_MQTT_INBOUND_BYTES_PER_SECOND: '1000000000000',
}

/** `dist/hearth serve` in a temp data dir, built first when a source is newer. */
export async function startHub(): Promise<Target> {
  const binary = ensureBinary()
  const hub = await spawnHub(['serve'], HUB_ENV, { command: [binary] })
  return {
    name: 'hub',
    port: hub.mqttPort,
    pid: hub.proc.pid,
    settings:
      'anonymous with a readwrite `#` ACL, connectRatePerAddress 1,000,000/s, maxConnections 20,000, inbound limits 10⁹ msg/s and 10¹² B/s; maxQueuedBytesPerClient left at 8 MiB',
    [Symbol.asyncDispose]: () => hub[Symbol.asyncDispose](),
  }
}

const DEBIAN_CONF = '/etc/mosquitto/mosquitto.conf'

function mosquittoBinary(): string | undefined {
  return Bun.which('mosquitto') ?? (existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : undefined)
}

/** PIDs of the Debian service's mosquitto (started with the package's own config). */
function debianServicePids(): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')
      if (argv[0]?.endsWith('mosquitto') && argv.includes(DEBIAN_CONF)) pids.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return pids
}

/**
 * Installs Debian's mosquitto when it is missing. The package's postinst may start the system
 * service on port 1883: that instance, which this install started, is stopped by its PID.
 */
export function ensureMosquitto(out: (s: string) => void): string {
  const found = mosquittoBinary()
  if (found) return found
  out('mqtt: installing Debian mosquitto (apt-get install -y mosquitto)')
  const install = () =>
    Bun.spawnSync(['apt-get', 'install', '-y', '-o', 'DPkg::Lock::Timeout=120', 'mosquitto'], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdout: 'ignore',
      stderr: 'pipe',
    })
  let res = install()
  if (res.exitCode !== 0) {
    Bun.spawnSync(['apt-get', 'update'], { stdout: 'ignore', stderr: 'ignore' })
    res = install()
  }
  const binary = mosquittoBinary()
  if (res.exitCode !== 0 || !binary) throw new Error(`apt-get install mosquitto failed:\n${res.stderr}`)
  for (const pid of debianServicePids()) {
    out(`mqtt: stopping the Debian mosquitto service the install started (pid ${pid})`)
    process.kill(pid, 'SIGTERM')
  }
  return binary
}

export async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = s.port
  s.stop(true)
  return port
}

/** Debian's mosquitto on a free loopback port, from a temp config with raised queue limits. */
export async function startMosquitto(binary: string): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-mosquitto-'))
  const port = await freePort()
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'max_connections -1',
      // Defaults are 20 in flight and 1,000 queued per client: raised, as the hub has neither.
      'max_inflight_messages 0',
      'max_queued_messages 1000000',
      'max_queued_bytes 0',
      'set_tcp_nodelay true',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  )
  const proc = Bun.spawn([binary, '-c', conf], { stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' })
  const stop = async () => {
    if (proc.exitCode === null && !proc.killed) {
      proc.kill('SIGTERM')
      await exitedOrKilled(proc)
    }
    rmSync(dir, { recursive: true, force: true })
  }
  const deadline = performance.now() + 5000
  for (;;) {
    try {
      const s = await Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {} } })
      s.end()
      break
    } catch {
      if (proc.exitCode !== null || performance.now() > deadline) {
        const err = proc.stderr ? await new Response(proc.stderr).text() : ''
        await stop()
        throw new Error(`mosquitto did not start: ${err}`)
      }
      await Bun.sleep(20)
    }
  }
  return {
    name: 'mosquitto',
    port,
    pid: proc.pid,
    settings:
      'persistence false, max_inflight_messages 0 (no limit), max_queued_messages 1,000,000, max_queued_bytes 0, set_tcp_nodelay true',
    [Symbol.asyncDispose]: stop,
  }
}

/** Waits up to 3 s for a process that was told to stop, then kills it. */
async function exitedOrKilled(proc: Subprocess): Promise<void> {
  const gone = await Promise.race([proc.exited.then(() => true), Bun.sleep(3000).then(() => false)])
  if (!gone) proc.kill('SIGKILL')
}

/** A bench process that prints its port on its first line and stops when its stdin closes. */
export interface PortPrinter {
  port: number
  pid: number
  stop(): Promise<void>
}

/** Starts a PortPrinter (bench/mqtt/floor.ts, `bench/mqtt-engine.ts serve`) and reads its port. */
export async function spawnPortPrinter(argv: string[], what: string): Promise<PortPrinter> {
  const proc = Bun.spawn(argv, { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' })
  const reader = proc.stdout.getReader()
  const first = await Promise.race([reader.read(), Bun.sleep(10_000).then(() => undefined)])
  const port = Number(new TextDecoder().decode(first?.value ?? new Uint8Array()).trim())
  reader.releaseLock()
  const stop = async () => {
    proc.stdin.end()
    await exitedOrKilled(proc)
  }
  if (!(port > 0)) {
    await stop()
    throw new Error(`${what} did not print its port`)
  }
  return { port, pid: proc.pid, stop }
}

/** bench/mqtt/floor.ts on a free loopback port: the runtime's own floor for the latency scenario. */
export async function startFloor(): Promise<Target<'floor'>> {
  const floor = await spawnPortPrinter(
    [process.execPath, join(import.meta.dir, 'floor.ts')],
    'bench/mqtt/floor.ts',
  )
  return {
    name: 'floor',
    port: floor.port,
    pid: floor.pid,
    settings: 'bench/mqtt/floor.ts',
    [Symbol.asyncDispose]: floor.stop,
  }
}

const TICK_MS = 1000 / Number(Bun.spawnSync(['getconf', 'CLK_TCK']).stdout.toString().trim() || 100)

/** CPU time (user + system, all threads) of a process so far. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // Fields 14 and 15 of proc(5); `fields` starts at field 3.
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS
}

export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
}

/** The whole machine's busy CPU time so far (all cores), to tell what others were running. */
export function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  const v = line.trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal
  const busy = v[0]! + v[1]! + v[2]! + v[5]! + v[6]! + v[7]!
  return busy * TICK_MS
}

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
}
