import { describe, expect, it } from 'bun:test'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { queryEvents } from '../../src/store/events.ts'
import { schemaVersion } from '../../src/store/migrate.ts'
import { SCHEMA_VERSION } from '../../src/store/migrations/index.ts'
import { openStore } from '../../src/store/open.ts'
import { startTestHub, tempDir } from '../helpers/hub.ts'

describe('store', () => {
  it('opens hearth.db with WAL, foreign keys and the latest schema', () => {
    using dir = tempDir()
    const { db, path } = openStore(dir.path)
    expect(path).toBe(join(dir.path, 'hearth.db'))
    expect(db.query('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' })
    expect(db.query('PRAGMA foreign_keys').get()).toEqual({ foreign_keys: 1 })
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION)
    db.close()
  })

  it('moves a corrupt file aside and starts on a fresh one', () => {
    using dir = tempDir()
    writeFileSync(join(dir.path, 'hearth.db'), Buffer.alloc(8192, 0x5a))
    const { db, corrupt } = openStore(dir.path, () => new Date('2026-01-02T03:04:05Z'))
    expect(corrupt?.movedTo).toBe(join(dir.path, 'hearth.db.corrupt-2026-01-02T03-04-05-000Z'))
    expect(existsSync(corrupt!.movedTo)).toBe(true)
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION)
    db.close()
  })

  it('boots the hub on a corrupt file and raises an alert event', async () => {
    using dir = tempDir()
    writeFileSync(join(dir.path, 'hearth.db'), Buffer.alloc(8192, 0x5a))
    await using t = await startTestHub({}, { dataDir: dir.path })
    const events = queryEvents(t.hub.db, { types: ['store.corrupt', 'alert'] }).items
    expect(events.map((e) => e.type).sort()).toEqual(['alert', 'store.corrupt'])
    expect(readdirSync(dir.path).some((f) => f.startsWith('hearth.db.corrupt-'))).toBe(true)
    const health = await fetch(`${t.url}/healthz`)
    expect(health.status).toBe(200)
  })
})
