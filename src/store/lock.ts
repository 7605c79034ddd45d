import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'

export const LOCK_FILE = 'hearth.pid'

/** Another hub already runs on this data dir. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`another Hearth (pid ${pid}) is running on data dir ${dataDir}`)
    this.name = 'DataDirLockedError'
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The pid of a live hub holding the data dir, if any (a stale pid file is ignored). */
export function lockHolder(dataDir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(join(dataDir, LOCK_FILE), 'utf8'), 10)
    return Number.isInteger(pid) && alive(pid) ? pid : undefined
  } catch {
    return undefined
  }
}

/** Claims the data dir for this process; returns the release function. */
export function lockDataDir(dataDir: string): () => void {
  const holder = lockHolder(dataDir)
  if (holder) throw new DataDirLockedError(dataDir, holder)
  const path = join(dataDir, LOCK_FILE)
  const fd = openSync(path, 'w', 0o644)
  writeSync(fd, String(process.pid))
  closeSync(fd)
  let released = false
  return () => {
    if (released) return
    released = true
    try {
      if (Number.parseInt(readFileSync(path, 'utf8'), 10) === process.pid) rmSync(path)
    } catch {
      // already gone
    }
  }
}
