import type { Database } from 'bun:sqlite'
import { core } from './001-core.ts'

/** One schema step. `up` runs inside a transaction; steps never change once released. */
export interface Migration {
  version: number
  name: string
  up(db: Database): void
}

/** Every migration, in version order. The last version is the schema this build writes. */
export const MIGRATIONS: readonly Migration[] = [core].sort((a, b) => a.version - b.version)

export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version
