import { describe, expect, it } from 'bun:test'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { VERSION } from '../../src/version.ts'
import { cli } from '../helpers/cli.ts'
import { tempDir } from '../helpers/hub.ts'
import { spawnHub } from '../helpers/process.ts'
import { waitFor } from '../helpers/wait.ts'

describe('hearth CLI', () => {
  it('lists its commands with --help and each command has its own --help', async () => {
    using dir = tempDir()
    const help = await cli(['--help'], { cwd: dir.path })
    expect(help.code).toBe(0)
    for (const name of ['serve', 'init', 'check-config', 'backup', 'restore', 'version']) {
      expect(help.out).toContain(`  ${name}`)
      const own = await cli([name, '--help'], { cwd: dir.path })
      expect(own.code).toBe(0)
      expect(own.out).toStartWith(`hearth ${name}`)
    }
  })

  it('refuses an unknown command and an unknown option with exit code 2', async () => {
    using dir = tempDir()
    expect((await cli(['frobnicate'], { cwd: dir.path })).code).toBe(2)
    const bad = await cli(['check-config', '--nope'], { cwd: dir.path })
    expect(bad.code).toBe(2)
    expect(bad.err).toContain('--nope')
  })

  it('prints the version', async () => {
    using dir = tempDir()
    expect((await cli(['version'], { cwd: dir.path })).out).toStartWith(`hearth ${VERSION}`)
  })

  it('init writes a commented hearth.toml that check-config accepts, and does not overwrite it', async () => {
    using dir = tempDir()
    const init = await cli(['init'], { cwd: dir.path })
    expect(init.code).toBe(0)
    const file = join(dir.path, 'hearth.toml')
    expect(readFileSync(file, 'utf8')).toContain('# port = 1883')
    expect((await cli(['init'], { cwd: dir.path })).code).toBe(1)
    const check = await cli(['check-config'], { cwd: dir.path })
    expect(check.code).toBe(0)
    expect(check.out).toContain(`config file: ${file}`)
  })

  it('check-config prints the effective config with secrets masked', async () => {
    using dir = tempDir()
    writeFileSync(
      join(dir.path, 'hearth.toml'),
      '[mqtt]\nport = 1999\n[admin]\npassword = "hunter2-hunter2"\n',
    )
    const res = await cli(['check-config'], { cwd: dir.path, env: { HEARTH_HTTP_PORT: '8181' } })
    expect(res.code).toBe(0)
    const printed = JSON.parse(res.out.slice(res.out.indexOf('{')))
    expect(printed.mqtt.port).toBe(1999)
    expect(printed.http.port).toBe(8181)
    expect(printed.admin.password).toBe('********')
    expect(res.out).not.toContain('hunter2')
  })

  it('check-config fails with exit 1 and names the bad key', async () => {
    using dir = tempDir()
    writeFileSync(join(dir.path, 'hearth.toml'), '[mqtt]\nport = -1\n')
    const res = await cli(['check-config'], { cwd: dir.path })
    expect(res.code).toBe(1)
    expect(res.err).toContain('mqtt.port:')
  })

  it('serve starts, creates the admin once with a 0600 password file, and stops cleanly when asked', async () => {
    using dir = tempDir()
    const env = {
      HEARTH_MQTT_PORT: '0',
      HEARTH_HTTP_PORT: '0',
      HEARTH_MQTT_HOST: '127.0.0.1',
      HEARTH_HTTP_HOST: '127.0.0.1',
      // Readable output for a person: the first-start password is shown as well.
      HEARTH_LOG_FORMAT: 'pretty',
    }
    const stop = Promise.withResolvers<string>()
    const running = cli(['serve'], { cwd: dir.path, env, stop: stop.promise })
    const file = join(dir.path, 'data', 'initial-admin-password')
    await waitFor(() => existsSync(join(dir.path, 'data', 'hearth.pid')) && existsSync(file))
    stop.resolve('SIGTERM')
    const first = await running
    expect(first.code).toBe(0)
    const password = readFileSync(file, 'utf8').trim()
    expect(password.length).toBeGreaterThanOrEqual(32)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(first.out).toContain(password)
    expect(first.out).toContain('Hearth console: http://')
    expect(existsSync(join(dir.path, 'data', 'hearth.pid'))).toBe(false)

    const again = Promise.withResolvers<string>()
    again.resolve('SIGTERM')
    const second = await cli(['serve'], { cwd: dir.path, env, stop: again.promise })
    expect(second.code).toBe(0)
    expect(second.out).not.toContain(password)
  })

  it('serve with JSON logs (stdout not a terminal) prints only JSON lines, and the first-start password only to its 0600 file', async () => {
    await using hub = await spawnHub(['serve'], {
      HEARTH_LOG_FORMAT: undefined,
      HEARTH_ADMIN_PASSWORD: undefined,
    })
    const file = join(hub.dataDir, 'initial-admin-password')
    const told = await hub.waitForLog((e) => e.file === file)
    expect(told).toMatchObject({ level: 'warn', module: 'serve' })
    expect(await hub.kill()).toBe(0)
    const password = readFileSync(file, 'utf8').trim()
    expect(password.length).toBeGreaterThanOrEqual(32)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const notJson = hub.lines.filter((line) => {
      try {
        return typeof JSON.parse(line) !== 'object'
      } catch {
        return true
      }
    })
    expect(notJson).toEqual([])
    expect(hub.lines.length).toBeGreaterThan(2)
    expect(hub.lines.join('\n') + hub.stderr).not.toContain(password)
  })

  it('serve names a port that is already in use and exits 1', async () => {
    using dir = tempDir()
    const blocker = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
    try {
      const res = await cli(['serve'], {
        cwd: dir.path,
        env: { HEARTH_MQTT_PORT: String(blocker.port), HEARTH_MQTT_HOST: '127.0.0.1', HEARTH_HTTP_PORT: '0' },
      })
      expect(res.code).toBe(1)
      // JSON logs (not a terminal): the reason is one JSON line on stderr, nothing on stdout.
      expect(res.out).toBe('')
      expect(JSON.parse(res.err)).toMatchObject({
        level: 'error',
        msg: 'hearth could not start',
        reason: `cannot listen for MQTT on 127.0.0.1:${blocker.port}: the port is already in use`,
      })
    } finally {
      blocker.stop(true)
    }
  })
})
