import type { Database } from 'bun:sqlite'
import { closeSync, openSync, rmSync } from 'node:fs'

/**
 * Writes one consistent copy of a live database to `file`, readable by its owner only (0600):
 * a backup holds password hashes, device credentials and secrets. `file` must not exist
 * (`EEXIST` otherwise); a failed copy leaves nothing behind.
 */
export function snapshotDatabase(db: Database, file: string): void {
  // Created empty first with mode 0600 (a umask only removes bits): VACUUM INTO accepts an empty
  // file and keeps its mode, so the copy is never readable by others, not even while it is written.
  closeSync(openSync(file, 'wx', 0o600))
  try {
    // VACUUM INTO reads one snapshot of the WAL database: consistent while writers go on.
    db.run('VACUUM INTO ?', [file])
  } catch (err) {
    rmSync(file, { force: true })
    throw err
  }
}
