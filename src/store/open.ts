import { Database } from 'bun:sqlite'
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { migrateWithSnapshot, type Upgrade } from './upgrade.ts'

export const DB_FILE = 'hearth.db'

export interface OpenedStore {
  db: Database
  path: string
  /** Set when the file failed its integrity check and was moved aside. */
  corrupt?: { movedTo: string; reason: string }
  /** Set when an older schema was upgraded (after a verified snapshot). */
  upgraded?: Upgrade
}

/** Opens a database file with the pragmas every connection uses [STYLE 11]. */
export function openDatabase(path: string, opts: { readonly?: boolean } = {}): Database {
  const db = opts.readonly
    ? new Database(path, { readonly: true, strict: true })
    : new Database(path, { create: true, strict: true })
  db.run('PRAGMA busy_timeout = 5000')
  if (!opts.readonly) {
    db.run('PRAGMA journal_mode = WAL')
    db.run('PRAGMA synchronous = NORMAL')
  }
  db.run('PRAGMA foreign_keys = ON')
  return db
}

/** `ok`, or what `PRAGMA quick_check` (or opening at all) reported. */
export function checkIntegrity(path: string): string {
  let db: Database | undefined
  try {
    db = new Database(path, { readonly: true, strict: true })
    const rows = db.query('PRAGMA quick_check').all() as { quick_check: string }[]
    const report = rows.map((r) => r.quick_check).join('; ')
    return report === 'ok' ? 'ok' : report || 'quick_check returned nothing'
  } catch (err) {
    return (err as Error).message
  } finally {
    db?.close()
  }
}

// Why an empty database file next to a write-ahead log with data is damaged, or undefined.
function orphanedWal(path: string): string | undefined {
  const wal = statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0
  if (statSync(path).size > 0 || wal === 0) return undefined
  return `the database file is empty but its write-ahead log holds ${wal} bytes`
}

/**
 * Opens `<dataDir>/hearth.db`, migrating it. An empty file next to a non-empty WAL, or a file
 * that fails `quick_check`, is moved aside to
 * `hearth.db.corrupt-<time>` with its WAL and the hub starts on a fresh one: it never refuses to
 * boot on a bad file. A schema newer than this build is refused (SchemaTooNewError). An older one
 * is snapshotted first, then upgraded in one transaction (UpgradeFailedError leaves it unchanged).
 */
export function openStore(dataDir: string, now: () => Date = () => new Date()): OpenedStore {
  mkdirSync(dataDir, { recursive: true })
  const path = join(dataDir, DB_FILE)
  let corrupt: OpenedStore['corrupt']
  if (existsSync(path)) {
    // Checked before SQLite opens the file: it deletes the WAL of an empty database, so the
    // hub's data would be gone and it would start as a brand-new hub without a word.
    const report = orphanedWal(path) ?? checkIntegrity(path)
    if (report !== 'ok') {
      const movedTo = `${path}.corrupt-${now().toISOString().replace(/[:.]/g, '-')}`
      renameSync(path, movedTo)
      for (const suffix of ['-wal', '-shm']) {
        if (existsSync(path + suffix)) renameSync(path + suffix, movedTo + suffix)
      }
      corrupt = { movedTo, reason: report }
    }
  }
  const db = openDatabase(path)
  let upgraded: Upgrade | undefined
  try {
    upgraded = migrateWithSnapshot(db, path, now)
  } catch (err) {
    db.close()
    throw err
  }
  return { db, path, ...(corrupt ? { corrupt } : {}), ...(upgraded ? { upgraded } : {}) }
}
