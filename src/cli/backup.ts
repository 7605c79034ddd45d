import { closeSync, existsSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { lockHolder } from '../store/lock.ts'
import { schemaVersion } from '../store/migrate.ts'
import { SCHEMA_VERSION } from '../store/migrations/index.ts'
import { checkIntegrity, DB_FILE, openDatabase } from '../store/open.ts'
import { fileCommand } from './config.ts'
import { createProgress, type Progress } from './progress.ts'
import type { VacuumRequest, VacuumResult } from './vacuum-worker.ts'

export const backup = fileCommand({
  name: 'backup',
  summary: 'Write a consistent snapshot of the live database to FILE (safe while the hub runs).',
  missing: 'backup needs a target file',
  async run(out, io, loadConfig) {
    if (existsSync(out)) {
      io.err(`hearth: ${out} already exists; choose a new file name\n`)
      return 1
    }
    const { config } = loadConfig()
    const source = join(config.dataDir, DB_FILE)
    if (!existsSync(source)) {
      io.err(`hearth: no database at ${source}\n`)
      return 1
    }
    const progress = createProgress(io, 'backup')
    const estimate = snapshotBytes(source)
    progress.update(0, estimate)
    try {
      await vacuumInto({ source, target: out }, (bytes) => progress.update(bytes, estimate))
    } catch (err) {
      progress.end()
      throw err
    }
    progress.end(statSync(out).size)
    io.out(`backup written to ${out}\n`)
    return 0
  },
})

export const restore = fileCommand({
  name: 'restore',
  summary: 'Replace the database with a backup FILE. Refused while a hub runs on the same data dir.',
  missing: 'restore needs a backup file',
  async run(file, io, loadConfig) {
    const { config } = loadConfig()
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
    copyWithProgress(file, target, createProgress(io, 'restore'))
    io.out(`restored ${file} into ${target}\n`)
    return 0
  },
})

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

/**
 * `VACUUM INTO` on a worker thread; `onBytes` hears the snapshot's size as it grows, every 100 ms.
 * The worker is an extra entry point of `bun build --compile` (see package.json's build script).
 */
async function vacuumInto(request: VacuumRequest, onBytes: (bytes: number) => void): Promise<void> {
  const worker = new Worker(vacuumWorkerPath())
  const answer = Promise.withResolvers<VacuumResult>()
  worker.onmessage = (e: MessageEvent<VacuumResult>) => answer.resolve(e.data)
  worker.onerror = (e) => answer.reject(new Error(e.message))
  const timer = setInterval(() => {
    if (existsSync(request.target)) onBytes(statSync(request.target).size)
  }, 100)
  try {
    worker.postMessage(request)
    const result = await answer.promise
    if (!result.ok) throw new Error(result.error)
  } finally {
    clearInterval(timer)
    worker.terminate()
  }
}

/**
 * From sources the worker is next to this file. In the compiled binary it is an extra entry point,
 * stored relative to the bundle's root (`src/`), and `import.meta.url` is the binary's own path.
 */
function vacuumWorkerPath(): string {
  return import.meta.url.startsWith('file:///$bunfs/')
    ? './cli/vacuum-worker.ts'
    : new URL('./vacuum-worker.ts', import.meta.url).href
}

/** What a snapshot of the database will about weigh: the pages in use (free pages are left out). */
function snapshotBytes(file: string): number {
  const db = openDatabase(file, { readonly: true })
  try {
    const n = (pragma: string) => Object.values(db.query(`PRAGMA ${pragma}`).get() as object)[0] as number
    return (n('page_count') - n('freelist_count')) * n('page_size')
  } finally {
    db.close()
  }
}

/** Copies in 1 MiB chunks, reporting each to `progress`. */
function copyWithProgress(from: string, to: string, progress: Progress): void {
  const total = statSync(from).size
  const buf = Buffer.allocUnsafe(1_048_576)
  const src = openSync(from, 'r')
  const dst = openSync(to, 'w')
  let done = 0
  try {
    progress.update(0, total)
    for (;;) {
      const n = readSync(src, buf, 0, buf.length, null)
      if (n === 0) break
      writeSync(dst, buf, 0, n)
      done += n
      progress.update(done, total)
    }
  } catch (err) {
    progress.end()
    throw err
  } finally {
    closeSync(src)
    closeSync(dst)
  }
  progress.end(done)
}
