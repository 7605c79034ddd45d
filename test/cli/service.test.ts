import { describe, expect, it } from 'bun:test'
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { lockDataDir } from '../../src/store/lock.ts'
import { ensureBinary } from '../helpers/binary.ts'
import { cli } from '../helpers/cli.ts'
import { tempDir } from '../helpers/hub.ts'

const UNIT = 'etc/systemd/system/hearth.service'
const SYSUSERS = 'etc/sysusers.d/hearth.conf'
const CONFIG = 'etc/hearth/hearth.toml'

/** A real executable for ExecStart: `systemd-analyze verify` checks that it exists. */
function fakeBinary(dir: string): string {
  const path = join(dir, 'bin', 'hearth')
  mkdirSync(join(dir, 'bin'))
  writeFileSync(path, '#!/bin/sh\n', { mode: 0o755 })
  return path
}

function install(cwd: string, root: string, binary: string, ...extra: string[]) {
  return cli(['service', 'install', '--root', root, ...extra], {
    cwd,
    invocation: { command: 'hearth', binary },
  })
}

/** `systemd-analyze verify` on a unit file: exit code and everything it said. */
function verify(unit: string): { code: number; said: string } {
  const res = Bun.spawnSync(['systemd-analyze', 'verify', unit], { stdout: 'pipe', stderr: 'pipe' })
  return { code: res.exitCode, said: (res.stdout.toString() + res.stderr.toString()).trim() }
}

/** The `--- path (mode m, owner o) ---` blocks of a dry run. */
function dryRunFiles(out: string): Map<string, { mode: string; owner: string; content: string }> {
  const files = new Map<string, { mode: string; owner: string; content: string }>()
  const parts = out.split(/^--- (\S+) \(mode (\d+), owner (\S+)\) ---\n/m)
  for (let i = 1; i + 3 < parts.length; i += 4) {
    const content = parts[i + 3] ?? ''
    // The last block runs into the commands and next steps that follow the files.
    const end = content.search(/^(--- |would run: )/m)
    files.set(parts[i]!, {
      mode: parts[i + 1]!,
      owner: parts[i + 2]!,
      content: end < 0 ? content : content.slice(0, end),
    })
  }
  return files
}

function uidOf(root: string, user: string): number {
  const line = readFileSync(join(root, 'etc/passwd'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`))
  return Number(line?.split(':')[2])
}

describe('hearth service', () => {
  it('prints with --dry-run exactly the files install then writes, with their modes and owners', async () => {
    using dir = tempDir()
    const root = join(dir.path, 'root')
    const binary = fakeBinary(dir.path)
    const dry = await install(dir.path, root, binary, '--dry-run')
    expect(dry.code).toBe(0)
    expect(existsSync(root)).toBe(false)
    const planned = dryRunFiles(dry.out)
    expect([...planned.keys()]).toEqual([join(root, UNIT), join(root, SYSUSERS), join(root, CONFIG)])
    expect(dry.out).toContain(`would run: systemd-sysusers --root=${root} ${join(root, SYSUSERS)}`)
    expect(dry.out).toContain('systemctl enable --now hearth')

    const res = await install(dir.path, root, binary)
    expect(res.code).toBe(0)
    expect(res.out).toContain('systemctl enable --now hearth')
    const uid = uidOf(root, 'hearth')
    expect(uid).toBeGreaterThan(0)
    for (const [path, plan] of planned) {
      expect(readFileSync(path, 'utf8')).toBe(plan.content)
      const st = statSync(path)
      expect(`0${(st.mode & 0o777).toString(8)}`).toBe(plan.mode)
      expect(st.uid).toBe(plan.owner === 'root' ? 0 : uidOf(root, plan.owner))
    }
    expect(planned.get(join(root, CONFIG))).toMatchObject({ mode: '0600', owner: 'hearth' })
    expect(planned.get(join(root, UNIT))).toMatchObject({ mode: '0644', owner: 'root' })
  })

  it('writes a unit that passes systemd-analyze verify, hardened, running the binary with the /etc config', async () => {
    using dir = tempDir()
    const root = join(dir.path, 'root')
    const binary = fakeBinary(dir.path)
    expect((await install(dir.path, root, binary)).code).toBe(0)
    const unit = readFileSync(join(root, UNIT), 'utf8')
    expect(verify(join(root, UNIT))).toEqual({ code: 0, said: '' })
    for (const line of [
      `ExecStart=${binary} serve --config /etc/hearth/hearth.toml`,
      'ExecReload=/bin/kill -HUP $MAINPID',
      'Restart=on-failure',
      'User=hearth',
      'StateDirectory=hearth',
      'Environment=HEARTH_DATA_DIR=/var/lib/hearth',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'ProtectKernelTunables=yes',
      'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
      'CapabilityBoundingSet=',
      // mqtt.maxConnections (10,000 by default) plus room for HTTP clients and files.
      'LimitNOFILE=14096',
    ]) {
      expect(unit.split('\n')).toContain(line)
    }
    expect(unit).not.toContain('CAP_NET_BIND_SERVICE')
    expect(readFileSync(join(root, CONFIG), 'utf8')).toContain('\ndataDir = "/var/lib/hearth"\n')
  })

  it('keeps CAP_NET_BIND_SERVICE only, and raises LimitNOFILE, when the config asks for them', async () => {
    using dir = tempDir()
    const root = join(dir.path, 'root')
    mkdirSync(join(root, 'etc/hearth'), { recursive: true })
    const existing = '[mqtt]\nmaxConnections = 50000\n\n[http]\nport = 80\n'
    writeFileSync(join(root, CONFIG), existing)
    const res = await install(dir.path, root, fakeBinary(dir.path), '--user', 'hub')
    expect(res.code).toBe(0)
    expect(res.out).toContain(`kept ${join(root, CONFIG)}`)
    expect(readFileSync(join(root, CONFIG), 'utf8')).toBe(existing)
    const lines = readFileSync(join(root, UNIT), 'utf8').split('\n')
    expect(lines).toEqual(
      expect.arrayContaining([
        'User=hub',
        'CapabilityBoundingSet=CAP_NET_BIND_SERVICE',
        'AmbientCapabilities=CAP_NET_BIND_SERVICE',
        'LimitNOFILE=54096',
      ]),
    )
    expect(uidOf(root, 'hub')).toBeGreaterThan(0)
    expect(verify(join(root, UNIT))).toEqual({ code: 0, said: '' })
  })

  it('uninstalls the unit and its enable link, never the config or the data, and not while the hub runs', async () => {
    using dir = tempDir()
    const root = join(dir.path, 'root')
    expect((await install(dir.path, root, fakeBinary(dir.path))).code).toBe(0)
    const dataDir = join(root, 'var/lib/hearth')
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(join(dataDir, 'hearth.db'), 'data')
    const wants = join(root, 'etc/systemd/system/multi-user.target.wants')
    mkdirSync(wants)
    symlinkSync('../hearth.service', join(wants, 'hearth.service'))

    const release = lockDataDir(dataDir, 31337)
    const refused = await cli(['service', 'uninstall', '--root', root], { cwd: dir.path })
    release()
    expect(refused.code).toBe(1)
    expect(refused.err).toContain('the hub (pid 31337) is running')
    expect(existsSync(join(root, UNIT))).toBe(true)

    const dry = await cli(['service', 'uninstall', '--root', root, '--dry-run'], { cwd: dir.path })
    expect(dry.out).toContain(`would remove ${join(root, UNIT)}`)
    expect(existsSync(join(root, UNIT))).toBe(true)

    const res = await cli(['service', 'uninstall', '--root', root], { cwd: dir.path })
    expect(res.code).toBe(0)
    expect(existsSync(join(root, UNIT))).toBe(false)
    expect(existsSync(join(wants, 'hearth.service'))).toBe(false)
    expect(readFileSync(join(dataDir, 'hearth.db'), 'utf8')).toBe('data')
    expect(existsSync(join(root, CONFIG))).toBe(true)
    expect((await cli(['service', 'uninstall', '--root', root], { cwd: dir.path })).out).toContain(
      'nothing to remove',
    )
  })

  it('refuses in a source checkout and says how to build and install the binary first', async () => {
    using dir = tempDir()
    const res = await cli(['service', 'install', '--root', join(dir.path, 'root')], { cwd: dir.path })
    expect(res.code).toBe(1)
    expect(res.err).toContain('npm run build')
    expect(res.err).toContain('install -m 755 dist/hearth /usr/local/bin/hearth')
    expect(existsSync(join(dir.path, 'root'))).toBe(false)
  })

  it('is run by the compiled binary with ExecStart naming that binary', async () => {
    using dir = tempDir()
    const binary = ensureBinary()
    const root = join(dir.path, 'root')
    const proc = Bun.spawnSync([binary, 'service', 'install', '--root', root], {
      stdout: 'pipe',
      stderr: 'pipe',
    })
    // A checkout under /home, /root or /tmp (a CI clone) gets the warning that the service cannot
    // see the binary there; anything else on stderr is a failure.
    const hidden = /^\/(home|root|tmp|var\/tmp|run\/user)\//.test(binary)
    const err = proc.stderr
      .toString()
      .split('\n')
      .filter((line) => line && !(hidden && line.includes('the service cannot see')))
    expect({ code: proc.exitCode, err }).toEqual({ code: 0, err: [] })
    expect(readFileSync(join(root, UNIT), 'utf8')).toContain(
      `\nExecStart=${binary} serve --config /etc/hearth/hearth.toml\n`,
    )
    expect(verify(join(root, UNIT))).toEqual({ code: 0, said: '' })
  })
})
