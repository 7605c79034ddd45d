import { dlopen, FFIType, read } from 'bun:ffi'

// <sys/file.h>: the same values on Linux and macOS.
const LOCK_EX = 2
const LOCK_NB = 4

// EWOULDBLOCK: EAGAIN on Linux, 35 on macOS.
const WOULD_BLOCK = process.platform === 'darwin' ? 35 : 11

/**
 * Takes an exclusive `flock(2)` on an open file without waiting. True when taken; false when
 * another open file description holds it (another process, or another `open` in this one). The
 * kernel drops the lock when the last descriptor of that open file closes, which happens when its
 * process dies for any reason, SIGKILL included, before the process is even reaped. Bun has no
 * file-lock API, so libc is called through `bun:ffi`.
 */
export function tryLockExclusive(fd: number): boolean {
  const darwin = process.platform === 'darwin'
  const errnoName = darwin ? '__error' : '__errno_location'
  const libc = dlopen(darwin ? 'libc.dylib' : 'libc.so.6', {
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    [errnoName]: { args: [], returns: FFIType.ptr },
  })
  try {
    if (libc.symbols.flock(fd, LOCK_EX | LOCK_NB) === 0) return true
    const where = libc.symbols[errnoName]?.()
    const errno = where ? read.i32(where, 0) : -1
    if (errno === WOULD_BLOCK) return false
    throw new Error(`flock failed (errno ${errno}); is the data dir on a file system without locks?`)
  } finally {
    libc.close()
  }
}
