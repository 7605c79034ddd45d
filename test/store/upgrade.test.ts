import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { migrate, schemaVersion } from '../../src/store/migrate.ts'
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/migrations/index.ts'
import { openDatabase, openStore } from '../../src/store/open.ts'
import { migrateWithSnapshot, UpgradeFailedError } from '../../src/store/upgrade.ts'
import { tempDir } from '../helpers/hub.ts'

const MAIN = resolve(import.meta.dir, '../../src/main.ts')
const OLD = 10
const AT = new Date('2026-03-04T05:06:07.089Z')
const SNAPSHOT = `hearth.db.before-v${OLD}-2026-03-04T05-06-07-089Z`

/** A database as a release with schema version OLD left it, with one event in it. */
function oldDatabase(dir: string, tamper?: (db: Database) => void): string {
  const path = join(dir, 'hearth.db')
  const db = openDatabase(path)
  migrate(db, MIGRATIONS, OLD)
  db.run("INSERT INTO events (ts, type, detail) VALUES (1, 'hub.started', '{}')")
  tamper?.(db)
  db.close()
  return path
}

function versionOf(path: string): number {
  const db = new Database(path, { readonly: true })
  try {
    return schemaVersion(db)
  } finally {
    db.close()
  }
}

describe('upgrading an older database', () => {
  it('writes a verified 0600 snapshot named after the old version first, then migrates', () => {
    using dir = tempDir()
    oldDatabase(dir.path)
    const { db, upgraded } = openStore(dir.path, () => AT)
    expect(upgraded).toEqual({ from: OLD, to: SCHEMA_VERSION, snapshot: join(dir.path, SNAPSHOT) })
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION)
    db.close()
    expect(versionOf(join(dir.path, SNAPSHOT))).toBe(OLD)
    expect(statSync(join(dir.path, SNAPSHOT)).mode & 0o777).toBe(0o600)
    const copy = new Database(join(dir.path, SNAPSHOT), { readonly: true })
    expect(copy.query('SELECT type FROM events').all()).toEqual([{ type: 'hub.started' }])
    copy.close()
  })

  it('keeps the snapshot until the next successful upgrade, which replaces it', () => {
    using dir = tempDir()
    oldDatabase(dir.path)
    openStore(dir.path, () => AT).db.close()
    // Opening again at the same version neither snapshots nor removes anything.
    const again = openStore(dir.path, () => new Date('2026-05-01T00:00:00Z'))
    expect(again.upgraded).toBeUndefined()
    const next = [
      ...MIGRATIONS,
      {
        version: SCHEMA_VERSION + 1,
        name: 'next',
        up: (d: Database) => d.run('CREATE TABLE next (x INTEGER) STRICT'),
      },
    ]
    const failing = [...next.slice(0, -1), { ...next.at(-1)!, up: (d: Database) => d.run('NOT SQL') }]
    // A failing upgrade tried again (a restart loop) keeps only its newest copy.
    for (const day of ['2026-05-01T12:00:00Z', '2026-05-02T00:00:00Z']) {
      expect(() => migrateWithSnapshot(again.db, again.path, () => new Date(day), failing)).toThrow(
        UpgradeFailedError,
      )
    }
    expect(
      readdirSync(dir.path)
        .filter((f) => f.includes('.before-v'))
        .sort(),
    ).toEqual([SNAPSHOT, `hearth.db.before-v${SCHEMA_VERSION}-2026-05-02T00-00-00-000Z`])
    const done = migrateWithSnapshot(again.db, again.path, () => new Date('2026-06-01T00:00:00Z'), next)
    again.db.close()
    expect(done?.snapshot).toBe(
      join(dir.path, `hearth.db.before-v${SCHEMA_VERSION}-2026-06-01T00-00-00-000Z`),
    )
    expect(readdirSync(dir.path).filter((f) => f.includes('.before-v'))).toEqual([
      `hearth.db.before-v${SCHEMA_VERSION}-2026-06-01T00-00-00-000Z`,
    ])
  })

  it('changes nothing when no snapshot can be written', () => {
    using dir = tempDir()
    const path = oldDatabase(dir.path)
    writeFileSync(join(dir.path, SNAPSHOT), 'someone else’s file')
    expect(() => openStore(dir.path, () => AT)).toThrow(
      /could not write a verified snapshot .* nothing was changed/,
    )
    expect(versionOf(path)).toBe(OLD)
    expect(readFileSync(join(dir.path, SNAPSHOT), 'utf8')).toBe('someone else’s file')
  })

  it('leaves the file byte for byte as it was when a migration fails, and serve exits 1 naming the snapshot', async () => {
    using dir = tempDir()
    // A hand-made index with the name the last migration creates: every step before it succeeds,
    // the last one fails, and all of them must be undone.
    const path = oldDatabase(dir.path, (db) => db.run('CREATE INDEX api_tokens_device ON api_tokens (name)'))
    const before = readFileSync(path)
    const proc = Bun.spawn([process.execPath, MAIN, 'serve'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HEARTH_DATA_DIR: dir.path,
        HEARTH_MQTT_PORT: '0',
        HEARTH_HTTP_PORT: '0',
        HEARTH_LOG_LEVEL: 'silent',
      },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
    expect(code).toBe(1)
    const snapshot = readdirSync(dir.path).find((f) => f.startsWith(`hearth.db.before-v${OLD}-`))
    expect(snapshot).toBeDefined()
    expect(stderr).toContain(`upgrading the database from schema version ${OLD} to ${SCHEMA_VERSION} failed`)
    expect(stderr).toContain(join(dir.path, snapshot ?? ''))
    expect(readFileSync(path).equals(before)).toBe(true)
    expect(existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0).toBe(0)
    expect(versionOf(path)).toBe(OLD)
    expect(versionOf(join(dir.path, snapshot ?? ''))).toBe(OLD)
  })
})
