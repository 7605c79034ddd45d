import { Database } from 'bun:sqlite'
import { chmodSync, existsSync, readdirSync, rmSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { migrate, schemaVersion } from './migrate.ts'
import { MIGRATIONS, type Migration } from './migrations/index.ts'

/** A migration failed; the database was left as it was and the snapshot is there too. */
export class UpgradeFailedError extends Error {
  constructor(
    readonly from: number,
    readonly to: number,
    readonly snapshot: string,
    cause: unknown,
  ) {
    super(
      `upgrading the database from schema version ${from} to ${to} failed: ${(cause as Error)?.message ?? cause}. ` +
        `The database was left unchanged; a verified copy made before the attempt is ${snapshot}`,
      { cause },
    )
    this.name = 'UpgradeFailedError'
  }
}

/** What an upgrade did: the schema versions and the snapshot kept until the next upgrade. */
export interface Upgrade {
  from: number
  to: number
  snapshot: string
}

const SNAPSHOT_INFIX = '.before-v'

/**
 * Migrates `db` (the file at `path`). A database with an older schema is first copied to
 * `<path>.before-v<old>-<time>` and the copy verified; then every pending step runs in one
 * transaction, so a failure leaves the file exactly as the previous release wrote it. After a
 * successful upgrade the snapshots of earlier upgrades are removed: one is kept, the newest.
 */
export function migrateWithSnapshot(
  db: Database,
  path: string,
  now: () => Date,
  migrations: readonly Migration[] = MIGRATIONS,
): Upgrade | undefined {
  const from = schemaVersion(db)
  const to = migrations.at(-1)?.version ?? 0
  // A fresh file has nothing to lose; a newer one is refused by migrate() without being touched.
  if (from === 0 || from >= to) {
    migrate(db, migrations)
    return undefined
  }
  const snapshot = `${path}${SNAPSHOT_INFIX}${from}-${now().toISOString().replace(/[:.]/g, '-')}`
  writeVerifiedSnapshot(db, snapshot, from)
  // An earlier copy of the same version is older than this one: a restart loop over a failing
  // upgrade keeps one copy instead of filling the disk.
  removeSnapshots(path, snapshot, `${SNAPSHOT_INFIX}${from}-`)
  try {
    db.transaction(() => migrate(db, migrations))()
  } catch (err) {
    throw new UpgradeFailedError(from, to, snapshot, err)
  }
  removeSnapshots(path, snapshot, SNAPSHOT_INFIX)
  return { from, to, snapshot }
}

function writeVerifiedSnapshot(db: Database, snapshot: string, version: number) {
  const fail = (why: string, cause?: unknown) =>
    new Error(
      `could not write a verified snapshot before upgrading the database from schema version ${version} ` +
        `(${why}); nothing was changed`,
      { cause },
    )
  if (existsSync(snapshot)) throw fail(`${snapshot} already exists`)
  try {
    // VACUUM INTO writes one consistent copy without changing the source.
    db.run('VACUUM INTO ?', [snapshot])
    // It holds everything the database holds, secrets included.
    chmodSync(snapshot, 0o600)
    const problem = compare(db, snapshot, version)
    if (problem) throw new Error(problem)
  } catch (err) {
    rmSync(snapshot, { force: true })
    throw fail((err as Error).message, err)
  }
}

function tableCounts(db: Database): Record<string, number> {
  const tables = db
    .query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all() as { name: string }[]
  return Object.fromEntries(
    tables.map(({ name }) => [
      name,
      (db.query(`SELECT count(*) AS n FROM "${name.replaceAll('"', '""')}"`).get() as { n: number }).n,
    ]),
  )
}

/** Why the snapshot is not a faithful copy of `db`, or undefined when it is. */
function compare(db: Database, snapshot: string, version: number): string | undefined {
  const copy = new Database(snapshot, { readonly: true, strict: true })
  try {
    const check = (copy.query('PRAGMA integrity_check').all() as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .join('; ')
    if (check !== 'ok') return `the copy fails its integrity check: ${check}`
    if (schemaVersion(copy) !== version) return `the copy has schema version ${schemaVersion(copy)}`
    const want = JSON.stringify(tableCounts(db))
    const got = JSON.stringify(tableCounts(copy))
    return want === got ? undefined : `the copy's tables and row counts differ: ${got} instead of ${want}`
  } finally {
    copy.close()
  }
}

/** Removes the snapshots beside `path` whose names start with `<name><infix>`, except `keep`. */
function removeSnapshots(path: string, keep: string, infix: string) {
  const prefix = `${basename(path)}${infix}`
  for (const name of readdirSync(dirname(path))) {
    const file = join(dirname(path), name)
    if (name.startsWith(prefix) && file !== keep) rmSync(file, { force: true })
  }
}
