import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { queryEvents } from '../../src/store/events.ts'
import { openStore } from '../../src/store/open.ts'
import { cli } from '../helpers/cli.ts'
import { startTestHub, tempDir } from '../helpers/hub.ts'

describe('hearth backup and restore', () => {
  it('backs up a running hub consistently and restores it into a stopped data dir', async () => {
    using dir = tempDir()
    const dataDir = join(dir.path, 'data')
    const env = { HEARTH_DATA_DIR: dataDir }
    {
      await using t = await startTestHub({}, { dataDir })
      t.hub.bus.emit('alert', { source: 'test', message: 'before backup', severity: 'info' })
      // Writers keep going while the snapshot is taken.
      const writing = (async () => {
        for (let i = 0; i < 200; i++) {
          t.hub.bus.emit('alert', { source: 'test', message: `during ${i}`, severity: 'info' })
          await Promise.resolve()
        }
      })()
      const res = await cli(['backup', 'snap.db'], { cwd: dir.path, env })
      await writing
      expect(res.code).toBe(0)
      expect(existsSync(join(dir.path, 'snap.db'))).toBe(true)

      const refused = await cli(['restore', 'snap.db'], { cwd: dir.path, env })
      expect(refused.code).toBe(1)
      expect(refused.err).toContain('is running on')
      t.hub.bus.emit('alert', { source: 'test', message: 'after backup', severity: 'info' })
    }
    const restored = await cli(['restore', 'snap.db'], { cwd: dir.path, env })
    expect(restored.code).toBe(0)
    expect(readdirSync(dataDir).some((f) => f.startsWith('hearth.db.before-restore-'))).toBe(true)
    const { db } = openStore(dataDir)
    const messages = queryEvents(db, { types: ['alert'], limit: 1000 }).items.map(
      (e) => (e.detail as { message: string }).message,
    )
    db.close()
    expect(messages).toContain('before backup')
    expect(messages).not.toContain('after backup')
  })

  it('writes the backup readable by its owner only (0600): it holds password hashes and secrets', async () => {
    using dir = tempDir()
    openStore(join(dir.path, 'data')).db.close()
    const res = await cli(['backup', 'snap.db'], { cwd: dir.path, env: { HEARTH_DATA_DIR: 'data' } })
    expect(res.code).toBe(0)
    expect((statSync(join(dir.path, 'snap.db')).mode & 0o777).toString(8)).toBe('600')
    expect(readdirSync(dir.path).sort()).toEqual(['data', 'snap.db'])
  })

  it('refuses to overwrite an existing backup file', async () => {
    using dir = tempDir()
    openStore(join(dir.path, 'data')).db.close()
    writeFileSync(join(dir.path, 'exists.db'), 'x')
    const res = await cli(['backup', 'exists.db'], { cwd: dir.path, env: { HEARTH_DATA_DIR: 'data' } })
    expect(res.code).toBe(1)
  })

  it('verifies a file before restoring: garbage, a foreign database and a missing file are refused', async () => {
    using dir = tempDir()
    const env = { HEARTH_DATA_DIR: 'data' }
    writeFileSync(join(dir.path, 'garbage.db'), Buffer.alloc(4096, 7))
    const foreign = new Database(join(dir.path, 'foreign.db'))
    foreign.run('CREATE TABLE t (x)')
    foreign.close()
    for (const [file, why] of [
      ['garbage.db', 'not a database'],
      ['foreign.db', 'not a Hearth database'],
      ['missing.db', 'does not exist'],
    ] as const) {
      const res = await cli(['restore', file], { cwd: dir.path, env })
      expect(res.code).toBe(1)
      expect(res.err).toContain(why)
    }
    expect(existsSync(join(dir.path, 'data', 'hearth.db'))).toBe(false)
  })
})
