import type { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { migrate, SchemaTooNewError, schemaVersion } from '../../src/store/migrate.ts'
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/migrations/index.ts'
import { openDatabase } from '../../src/store/open.ts'
import { tempDir } from '../helpers/hub.ts'

function tables(db: Database): string[] {
  return (
    db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]
  ).map((r) => r.name)
}

describe('migrations', () => {
  it('are numbered 1, 2, 3 … without gaps or repeats', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1))
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length)
  })

  for (const step of MIGRATIONS) {
    it(`${step.version} (${step.name}) applies on the schema of version ${step.version - 1} and keeps its data`, () => {
      using dir = tempDir()
      const db = openDatabase(join(dir.path, 'old.db'))
      migrate(db, MIGRATIONS, step.version - 1)
      expect(schemaVersion(db)).toBe(step.version - 1)
      if (step.version > 1) db.run("INSERT INTO events (ts, type, detail) VALUES (1, 'hub.started', '{}')")
      const before = tables(db)
      expect(migrate(db, MIGRATIONS, step.version)).toEqual([step.version])
      expect(schemaVersion(db)).toBe(step.version)
      expect(tables(db)).toEqual(expect.arrayContaining(before.filter((t) => !step.drops?.includes(t))))
      if (step.version > 1) expect(db.query('SELECT count(*) AS n FROM events').get()).toEqual({ n: 1 })
      db.close()
    })
  }

  it('rolls back a step that fails, leaving the previous version', () => {
    using dir = tempDir()
    const db = openDatabase(join(dir.path, 'x.db'))
    const broken = [
      ...MIGRATIONS,
      {
        version: SCHEMA_VERSION + 1,
        name: 'broken',
        up(d: Database) {
          d.run('CREATE TABLE half_done (x INTEGER) STRICT')
          d.run('THIS IS NOT SQL')
        },
      },
    ]
    expect(() => migrate(db, broken)).toThrow()
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION)
    expect(tables(db)).not.toContain('half_done')
    db.close()
  })

  it('refuses a database written by a newer build, with a clear message', () => {
    using dir = tempDir()
    const db = openDatabase(join(dir.path, 'new.db'))
    db.run(`PRAGMA user_version = ${SCHEMA_VERSION + 5}`)
    expect(() => migrate(db)).toThrow(SchemaTooNewError)
    expect(() => migrate(db)).toThrow(/newer than this build supports/)
    db.close()
  })
})

describe('migration 13 (outbox ids are never reused)', () => {
  it('hands out ids above every one the outbox or the event log has seen', () => {
    using dir = tempDir()
    const db = openDatabase(join(dir.path, 'old.db'))
    migrate(db, MIGRATIONS, 12)
    const add = (key: string) =>
      db
        .query(
          `INSERT INTO outbox (kind, target, key, payload, created_at, next_at, expires_at, updated_at)
           VALUES ('webhook', 'door', ?, '{}', 1, 1, 2, 1) RETURNING id`,
        )
        .get(key) as { id: number }
    for (const key of ['a', 'b', 'c']) add(key)
    db.run(`INSERT INTO events (ts, type, detail) VALUES (1, 'delivery.succeeded', '{"id": 7}')`)
    // The newest entries were delivered and deleted: a rowid table would hand out 2 again.
    db.run("DELETE FROM outbox WHERE key IN ('b', 'c')")
    expect(add('d').id).toBe(2)
    db.run("DELETE FROM outbox WHERE key = 'd'")
    migrate(db, MIGRATIONS, 13)
    expect(db.query('SELECT id, key FROM outbox').all()).toEqual([{ id: 1, key: 'a' }])
    expect(add('e').id).toBe(8)
    db.run('DELETE FROM outbox')
    expect(add('f').id).toBe(9)
    db.close()
  })
})
