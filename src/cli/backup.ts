import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { lockHolder } from '../store/lock.ts'
import { schemaVersion } from '../store/migrate.ts'
import { SCHEMA_VERSION } from '../store/migrations/index.ts'
import { checkIntegrity, DB_FILE, openDatabase } from '../store/open.ts'
import { snapshotDatabase } from '../store/snapshot.ts'
import { CONFIG_OPTION, type Command, UsageError } from './command.ts'
import { configFor } from './config.ts'

export const backup: Command = {
  name: 'backup',
  summary: 'Write a consistent snapshot of the live database to FILE (safe while the hub runs).',
  usage: '<file> [--config FILE]',
  options: CONFIG_OPTION,
  async run(args, io) {
    const target = args.positionals[0]
    if (!target) throw new UsageError('backup needs a target file')
    const out = resolve(io.cwd, target)
    if (existsSync(out)) {
      io.err(`hearth: ${out} already exists; choose a new file name\n`)
      return 1
    }
    const { config } = configFor(args, io)
    const source = join(config.dataDir, DB_FILE)
    if (!existsSync(source)) {
      io.err(`hearth: no database at ${source}\n`)
      return 1
    }
    const db = openDatabase(source)
    try {
      snapshotDatabase(db, out)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      io.err(`hearth: ${out} already exists; choose a new file name\n`)
      return 1
    } finally {
      db.close()
    }
    io.out(`backup written to ${out}\n`)
    return 0
  },
}

export const restore: Command = {
  name: 'restore',
  summary: 'Replace the database with a backup FILE. Refused while a hub runs on the same data dir.',
  usage: '<file> [--config FILE]',
  options: CONFIG_OPTION,
  async run(args, io) {
    const source = args.positionals[0]
    if (!source) throw new UsageError('restore needs a backup file')
    const file = resolve(io.cwd, source)
    const { config } = configFor(args, io)
    const holder = lockHolder(config.dataDir)
    if (holder) {
      io.err(
        `hearth: a hub (pid ${holder.pid ?? 'not known yet'}) is running on ${config.dataDir}; stop it before restoring\n`,
      )
      return 1
    }
    const problem = verifyBackup(file)
    if (problem) {
      io.err(`hearth: ${file} is not a usable backup: ${problem}\n`)
      return 1
    }
    const target = join(config.dataDir, DB_FILE)
    if (existsSync(target)) {
      const aside = `${target}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`
      renameSync(target, aside)
      io.out(`previous database kept as ${aside}\n`)
    }
    for (const suffix of ['-wal', '-shm']) rmSync(target + suffix, { force: true })
    copyFileSync(file, target)
    io.out(`restored ${file} into ${target}\n`)
    return 0
  },
}

/** Why a file cannot be restored, or undefined when it can. */
export function verifyBackup(file: string): string | undefined {
  if (!existsSync(file)) return 'file does not exist'
  const integrity = checkIntegrity(file)
  if (integrity !== 'ok') return integrity
  const db = openDatabase(file, { readonly: true })
  try {
    const version = schemaVersion(db)
    if (version === 0) return 'not a Hearth database (schema version 0)'
    if (version > SCHEMA_VERSION)
      return `schema version ${version} is newer than this build (${SCHEMA_VERSION})`
    const meta = db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'events'").get()
    if (!meta) return 'not a Hearth database (no events table)'
    return undefined
  } finally {
    db.close()
  }
}
