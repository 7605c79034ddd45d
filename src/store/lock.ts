import {
  closeSync,
  constants,
  ftruncateSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import { tryLockExclusive } from '../util/flock.ts'

/** Holds the kernel lock for the hub's lifetime; its content is the holder's pid. */
export const LOCK_FILE = 'hearth.lock'
/** The running hub's pid, for people and scripts; never consulted to decide who holds the dir. */
export const PID_FILE = 'hearth.pid'

/** Another hub already runs on this data dir. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number | undefined,
  ) {
    super(`another Hearth (pid ${pid ?? 'not known yet'}) is running on data dir ${dataDir}`)
    this.name = 'DataDirLockedError'
  }
}

/** The hub holding a data dir's lock: its pid, unless it has not written it yet. */
interface LockHolder {
  pid: number | undefined
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10)
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

function holderPid(dataDir: string): number | undefined {
  return readPid(join(dataDir, LOCK_FILE)) ?? readPid(join(dataDir, PID_FILE))
}

/**
 * The hub holding the data dir, found through the kernel lock: a pid file naming a live process
 * that is not a hub (PID 1 in a container, a recycled pid) proves nothing, a held lock does.
 */
export function lockHolder(dataDir: string): LockHolder | undefined {
  let fd: number
  try {
    // Read-only is enough for flock and works for a user who may not write the data dir.
    fd = openSync(join(dataDir, LOCK_FILE), constants.O_RDONLY)
  } catch {
    return undefined
  }
  try {
    // Taking it proves nobody holds it; closing the descriptor gives it back at once.
    return tryLockExclusive(fd) ? undefined : { pid: holderPid(dataDir) }
  } finally {
    closeSync(fd)
  }
}

/** Claims the data dir for this process until the returned release function runs or it dies. */
export function lockDataDir(dataDir: string, pid: number = process.pid): () => void {
  const path = join(dataDir, LOCK_FILE)
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644)
  if (!tryLockExclusive(fd)) {
    closeSync(fd)
    throw new DataDirLockedError(dataDir, holderPid(dataDir))
  }
  ftruncateSync(fd, 0)
  writeSync(fd, `${pid}\n`, 0)
  const pidFile = join(dataDir, PID_FILE)
  writeFileSync(pidFile, `${pid}\n`, { mode: 0o644 })
  let released = false
  return () => {
    if (released) return
    released = true
    if (readPid(pidFile) === pid) rmSync(pidFile, { force: true })
    // The lock file stays: unlinking it would let a hub that opened it a moment ago lock an orphaned
    // inode while the next one locks a new file at the same path. Emptied, it names nobody.
    ftruncateSync(fd, 0)
    closeSync(fd)
  }
}
