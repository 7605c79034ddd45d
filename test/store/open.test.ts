import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
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

  it('treats an empty hearth.db next to a non-empty WAL as damaged: both moved aside, with the reason', async () => {
    using dir = tempDir()
    const wal = walWithData(dir.path)
    writeFileSync(join(dir.path, 'hearth.db'), '')
    writeFileSync(join(dir.path, 'hearth.db-wal'), wal)
    const { db, corrupt } = openStore(dir.path, () => new Date('2026-01-02T03:04:05Z'))
    const movedTo = join(dir.path, 'hearth.db.corrupt-2026-01-02T03-04-05-000Z')
    expect(corrupt).toEqual({
      movedTo,
      reason: `the database file is empty but its write-ahead log holds ${wal.length} bytes`,
    })
    // The log is kept as it was: SQLite deletes the WAL of an empty database when it opens it.
    expect(readFileSync(`${movedTo}-wal`).equals(wal)).toBe(true)
    expect(statSync(movedTo).size).toBe(0)
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION)
    db.close()
  })

  const damage: Array<[string, (dir: string) => void]> = [
    ['a corrupt file', (dir) => writeFileSync(join(dir, 'hearth.db'), Buffer.alloc(8192, 0x5a))],
    [
      'an empty file next to a non-empty WAL',
      (dir) => {
        const wal = walWithData(dir)
        writeFileSync(join(dir, 'hearth.db'), '')
        writeFileSync(join(dir, 'hearth.db-wal'), wal)
      },
    ],
  ]
  for (const [what, damageIn] of damage) {
    it(`boots the hub on ${what} and raises an alert event`, async () => {
      using dir = tempDir()
      damageIn(dir.path)
      await using t = await startTestHub({}, { dataDir: dir.path })
      const events = queryEvents(t.hub.db, { types: ['store.corrupt', 'alert'] }).items
      expect(events.map((e) => e.type).sort()).toEqual(['alert', 'store.corrupt'])
      expect(readdirSync(dir.path).some((f) => f.startsWith('hearth.db.corrupt-'))).toBe(true)
      const health = await fetch(`${t.url}/healthz`)
      expect(health.status).toBe(200)
    })
  }
})

/** The WAL of a live database that holds data (copied before any checkpoint folds it in). */
function walWithData(dir: string): Buffer {
  const path = join(dir, 'source.db')
  const db = new Database(path, { create: true })
  try {
    db.run('PRAGMA journal_mode = WAL')
    db.run('PRAGMA wal_autocheckpoint = 0')
    db.run('CREATE TABLE t (x TEXT)')
    db.run("INSERT INTO t VALUES ('kept in the log')")
    return readFileSync(`${path}-wal`)
  } finally {
    db.close()
    for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true })
  }
}
