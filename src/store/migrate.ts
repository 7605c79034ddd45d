import type { Database } from 'bun:sqlite'
import { MIGRATIONS, type Migration } from './migrations/index.ts'

/** The database was written by a newer Hearth than this one. */
export class SchemaTooNewError extends Error {
  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `database schema version ${found} is newer than this build supports (${supported}); ` +
        'run a newer Hearth or restore a backup made by this version',
    )
    this.name = 'SchemaTooNewError'
  }
}

export function schemaVersion(db: Database): number {
  return (db.query('PRAGMA user_version').get() as { user_version: number }).user_version
}

/** Brings the schema up to the last migration (or `target`), one transaction per step [STYLE 12]. */
export function migrate(
  db: Database,
  migrations: readonly Migration[] = MIGRATIONS,
  target?: number,
): number[] {
  const latest = migrations.at(-1)?.version ?? 0
  const current = schemaVersion(db)
  if (current > latest) throw new SchemaTooNewError(current, latest)
  const applied: number[] = []
  for (const step of migrations) {
    if (step.version <= current || (target !== undefined && step.version > target)) continue
    db.transaction(() => {
      step.up(db)
      db.run(`PRAGMA user_version = ${step.version}`)
    })()
    applied.push(step.version)
  }
  return applied
}
