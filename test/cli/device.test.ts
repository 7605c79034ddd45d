import { describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import type { CliIo } from '../../src/cli/command.ts'
import { runCli } from '../../src/cli/run.ts'
import { getDevice } from '../../src/devices/registry.ts'
import { openStore } from '../../src/store/open.ts'
import { connackCode, connect } from '../broker/mqtt-fixture.ts'
import { startTestHub, tempDir } from '../helpers/hub.ts'

/** Runs `hearth …` in-process against a data dir; returns exit code and what was printed. */
async function hearth(dataDir: string, ...argv: string[]) {
  let out = ''
  let err = ''
  const io: CliIo = {
    out: (s) => {
      out += s
    },
    err: (s) => {
      err += s
    },
    env: { HEARTH_DATA_DIR: dataDir },
    cwd: dataDir,
    stopRequested: new Promise(() => {}),
    isTTY: false,
  }
  const code = await runCli(argv, io)
  return { code, out, err }
}

describe('hearth device', () => {
  it('adds a device and prints its credentials once, as JSON with --json', async () => {
    using dir = tempDir()
    const added = await hearth(dir.path, 'device', 'add', 'kitchen-1', '--name', 'Kitchen', '--json')
    expect(added.code).toBe(0)
    const creds = JSON.parse(added.out)
    expect(Object.keys(creds)).toEqual(['id', 'username', 'password'])
    expect(creds).toMatchObject({ id: 'kitchen-1', username: 'kitchen-1' })
    expect(Buffer.from(creds.password, 'base64url').length).toBeGreaterThanOrEqual(24)
    const { db } = openStore(dir.path)
    try {
      expect(getDevice(db, 'kitchen-1')?.name).toBe('Kitchen')
      const logged = db.query("SELECT type, subject FROM events WHERE type LIKE 'device.%'").all()
      expect(logged).toEqual([{ type: 'device.created', subject: 'kitchen-1' }])
    } finally {
      db.close()
    }
    const listed = await hearth(dir.path, 'device', 'list')
    expect(listed.out).not.toContain(creds.password)
    expect(listed.out).toMatch(/kitchen-1\s+Kitchen\s+offline/)
  })

  it('prints human-readable credentials without --json', async () => {
    using dir = tempDir()
    const added = await hearth(dir.path, 'device', 'add', 'd1')
    expect(added.out).toMatch(/username\s+d1\n\s+password\s+[A-Za-z0-9_-]{32}\n/)
  })

  it('refuses a duplicate or malformed id and unknown subcommands', async () => {
    using dir = tempDir()
    expect((await hearth(dir.path, 'device', 'add', 'd1')).code).toBe(0)
    const dup = await hearth(dir.path, 'device', 'add', 'd1')
    expect([dup.code, dup.err]).toEqual([1, 'hearth device: device "d1" already exists\n'])
    expect((await hearth(dir.path, 'device', 'add', 'a/b')).code).toBe(1)
    expect((await hearth(dir.path, 'device', 'frobnicate')).code).toBe(2)
    expect((await hearth(dir.path, 'device', 'add')).code).toBe(2)
    expect((await hearth(dir.path, 'device', 'remove', 'ghost')).code).toBe(1)
  })

  it('renames a device, keeping its id and credentials, and records the change', async () => {
    using dir = tempDir()
    await hearth(dir.path, 'device', 'add', 'hall-1')
    const renamed = await hearth(dir.path, 'device', 'rename', 'hall-1', 'Hall', 'lamp')
    expect([renamed.code, renamed.out]).toEqual([0, 'device "hall-1" is now named "Hall lamp"\n'])
    expect((await hearth(dir.path, 'device', 'rename', 'ghost', 'Ghost')).code).toBe(1)
    expect((await hearth(dir.path, 'device', 'rename', 'hall-1')).code).toBe(2)
    const { db } = openStore(dir.path)
    try {
      expect(getDevice(db, 'hall-1')?.name).toBe('Hall lamp')
      const logged = db.query("SELECT subject, detail FROM events WHERE type = 'device.renamed'").all()
      expect(logged).toEqual([{ subject: 'hall-1', detail: '{"device":"hall-1","name":"Hall lamp"}' }])
    } finally {
      db.close()
    }
  })

  it('lists devices as JSON, rotates, manages ACL rules and removes', async () => {
    using dir = tempDir()
    await hearth(dir.path, 'device', 'add', 'a')
    await hearth(dir.path, 'device', 'add', 'b', '--name', 'Bee')
    const list = JSON.parse((await hearth(dir.path, 'device', 'list', '--json')).out)
    expect(list.map((d: { id: string; name: string; online: boolean }) => [d.id, d.name, d.online])).toEqual([
      ['a', 'a', false],
      ['b', 'Bee', false],
    ])
    expect(JSON.stringify(list)).not.toContain('hash')
    const rotated = JSON.parse((await hearth(dir.path, 'device', 'rotate', 'a', '--json')).out)
    expect(rotated.id).toBe('a')
    expect((await hearth(dir.path, 'device', 'allow', 'a', 'home/+/light', '--access', 'read')).code).toBe(0)
    expect((await hearth(dir.path, 'device', 'allow', 'a', 'x', '--access', 'all')).code).toBe(2)
    const shown = JSON.parse((await hearth(dir.path, 'device', 'show', 'a', '--json')).out)
    expect(shown.acl).toEqual([{ pattern: 'home/+/light', access: 'read' }])
    expect((await hearth(dir.path, 'device', 'disallow', 'a', 'home/+/light')).code).toBe(0)
    expect((await hearth(dir.path, 'device', 'remove', 'a')).code).toBe(0)
    const after = JSON.parse((await hearth(dir.path, 'device', 'list', '--json')).out)
    expect(after.map((d: { id: string }) => d.id)).toEqual(['b'])
  })

  it('works next to a running hub: credentials it prints connect at once, rotation and disabling apply', async () => {
    using dir = tempDir()
    await using t = await startTestHub({}, { dataDir: dir.path })
    const creds = JSON.parse((await hearth(dir.path, 'device', 'add', 'live', '--json')).out)
    await using c = await connect(t.mqttUrl, { username: creds.username, password: creds.password })
    expect(c.connected).toBe(true)
    const listed = JSON.parse((await hearth(dir.path, 'device', 'list', '--json')).out)
    expect(listed[0]).toMatchObject({ id: 'live', online: true })
    const fresh = JSON.parse((await hearth(dir.path, 'device', 'rotate', 'live', '--json')).out)
    expect(await connackCode(t.mqttUrl, { username: 'live', password: creds.password })).toBe(4)
    expect(await connackCode(t.mqttUrl, { username: 'live', password: fresh.password })).toBe(0)
    expect((await hearth(dir.path, 'device', 'disable', 'live')).code).toBe(0)
    expect(await connackCode(t.mqttUrl, { username: 'live', password: fresh.password })).toBe(5)
  })

  it('issues a client certificate for a registered device from the local CA', async () => {
    using dir = tempDir()
    expect((await hearth(dir.path, 'init', '--tls')).code).toBe(0)
    expect((await hearth(dir.path, 'device', 'cert', 'd1')).code).toBe(1)
    await hearth(dir.path, 'device', 'add', 'd1')
    const issued = await hearth(dir.path, 'device', 'cert', 'd1')
    expect(issued.code).toBe(0)
    expect(issued.out).toContain(join(dir.path, 'tls', 'devices', 'd1.crt'))
  })

  it('adds a device with a preset: grants its topic trees and prints the settings to paste into the tool', async () => {
    using dir = tempDir()
    const added = await hearth(dir.path, 'device', 'add', 'z2m', '--preset', 'zigbee2mqtt')
    expect(added.code).toBe(0)
    expect(added.out).toContain('Zigbee2MQTT settings (configuration.yaml)')
    expect(added.out).toContain('    base_topic: zigbee2mqtt\n')
    expect(added.out).toContain('    server: mqtt://')
    expect(added.out).toMatch(/ {2}zigbee2mqtt\/# +readwrite\n/)
    const password = /password {2}(\S+)/.exec(added.out)?.[1]
    expect(added.out).toContain(`    password: "${password}"`)

    const json = JSON.parse((await hearth(dir.path, 'device', 'rotate', 'z2m', '--json')).out)
    expect(json.settings).toMatchObject({ preset: 'zigbee2mqtt', tool: 'Zigbee2MQTT' })
    expect(json.settings.snippet.text).toContain(`password: "${json.password}"`)
    expect((await hearth(dir.path, 'device', 'show', 'z2m')).out).toContain('preset      zigbee2mqtt')

    const wrong = await hearth(dir.path, 'device', 'add', 'x', '--preset', 'openhab')
    expect(wrong.code).toBe(2)
    expect(wrong.err).toContain(
      '--preset must be one of home-assistant, zigbee2mqtt, tasmota, shelly, esphome',
    )
  })
})
