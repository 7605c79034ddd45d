import { describe, expect, it } from 'bun:test'
import { utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runningHub } from '../../src/cli/reload.ts'
import { connect, grantedQos } from '../broker/mqtt-fixture.ts'
import { cli } from '../helpers/cli.ts'
import { tempDir } from '../helpers/hub.ts'
import { spawnHub } from '../helpers/process.ts'

const acl = (patterns: string[]) =>
  `[mqtt]\nallowAnonymous = true\nanonymousAcl = [${patterns.map((p) => `{ pattern = "${p}", access = "readwrite" }`).join(', ')}]\n`
const HOOK = '\n[[hooks]]\nname = "door"\npreset = "none"\n'
const knock = (url: string) =>
  fetch(`${url}/hooks/door`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })

/** `hearth serve --config <file>` as a process, the file allowing anonymous clients `patterns`. */
async function serveFile(dir: string, patterns: string[]) {
  const file = join(dir, 'hearth.toml')
  writeFileSync(file, acl(patterns))
  const hub = await spawnHub(['serve', '--config', file])
  return Object.assign(hub, { file })
}

describe('hearth reload and SIGHUP on a running hearth serve', () => {
  it('applies the file on `hearth reload` without dropping a live MQTT client, and prints what it applied', async () => {
    using dir = tempDir()
    await using hub = await serveFile(dir.path, ['open/#'])
    const { file } = hub
    await using device = await connect(hub.mqttUrl)
    let closed = false
    device.on('close', () => {
      closed = true
    })
    expect(await grantedQos(device, 'more/x')).toBe(128)
    expect((await knock(hub.url)).status).toBe(404)

    writeFileSync(file, acl(['open/#', 'more/#']) + HOOK)
    const reload = await cli(['reload', '--config', file], {
      cwd: dir.path,
      env: { HEARTH_DATA_DIR: hub.dataDir },
    })

    expect(reload).toEqual({
      code: 0,
      out: `Reloaded the config of the hub (pid ${hub.proc.pid}).\nApplied: hooks, mqtt.anonymousAcl\n`,
      err: '',
    })
    expect(await grantedQos(device, 'more/x')).toBe(1)
    expect((await knock(hub.url)).status).toBe(200)
    expect({ connected: device.connected, closed }).toEqual({ connected: true, closed: false })
    expect(
      (await cli(['reload', '--data-dir', hub.dataDir], { cwd: dir.path, env: { HEARTH_CONFIG: file } })).out,
    ).toBe(`Reloaded the config of the hub (pid ${hub.proc.pid}).\nNothing changed.\n`)
  })

  it('survives SIGHUP with an invalid file: logs the key path, keeps running and keeps its config', async () => {
    using dir = tempDir()
    await using hub = await serveFile(dir.path, ['open/#'])
    const { file } = hub
    await using device = await connect(hub.mqttUrl)

    writeFileSync(file, '[mqtt]\nallowAnonymous = true\nanonymousAcl = [{ pattern = "#", access = "all" }]\n')
    hub.proc.kill('SIGHUP')
    const failed = await hub.waitForLog((e) => e.msg === 'config reload failed; the running config stays')
    expect(String(failed.problems)).toContain('mqtt.anonymousAcl.0.access')
    // `hearth reload` checks the file first and sends nothing when it does not load.
    const refused = await cli(['reload', '--config', file], {
      cwd: dir.path,
      env: { HEARTH_DATA_DIR: hub.dataDir },
    })
    expect(refused.code).toBe(1)
    expect(refused.err).toContain('mqtt.anonymousAcl.0.access')

    // More SIGHUPs, a valid file again: the hub never exits on them.
    writeFileSync(file, acl(['open/#']))
    hub.proc.kill('SIGHUP')
    hub.proc.kill('SIGHUP')
    await hub.waitForLog((e) => e.msg === 'config reloaded')
    expect(hub.proc.exitCode).toBeNull()
    expect(await grantedQos(device, 'open/x')).toBe(1)
    expect(await grantedQos(device, 'more/x')).toBe(128)
    expect(await hub.kill('SIGTERM')).toBe(0)
  })

  it('says so when no hub runs on the data dir', async () => {
    using dir = tempDir()
    const result = await cli(['reload'], { cwd: dir.path, env: { HEARTH_DATA_DIR: dir.path } })
    expect(result).toEqual({
      code: 1,
      out: '',
      err: `hearth reload: no Hearth is running on data dir ${dir.path}\n`,
    })
  })

  it('never signals a live process that only got the pid of a dead hub', () => {
    using dir = tempDir()
    const pidFile = join(dir.path, 'hearth.pid')
    writeFileSync(pidFile, String(process.pid))
    expect(runningHub(dir.path)).toBe(process.pid)
    // Written an hour ago, before this process started: a hub that died left it, and its pid was reused.
    const anHourAgo = new Date(Date.now() - 3_600_000)
    utimesSync(pidFile, anHourAgo, anHourAgo)
    expect(runningHub(dir.path)).toBeUndefined()
    writeFileSync(pidFile, 'not a pid')
    expect(runningHub(dir.path)).toBeUndefined()
  })
})
