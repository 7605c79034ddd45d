import type { CliIo } from './command.ts'

/** A progress line on stderr, redrawn in place; nothing at all when stderr is not a terminal. */
export interface Progress {
  /** `done` of `total` bytes. */
  update(done: number, total: number): void
  /** After success (`final` bytes): the line at 100%, kept. After a failure: the line cleared. */
  end(final?: number): void
}

export function createProgress(io: CliIo, label: string): Progress {
  if (!io.errIsTTY) return { update() {}, end() {} }
  let last = ''
  let drawn = false
  return {
    update(done, total) {
      // Estimates can undershoot (a backup may end a little larger): hold at 99% until done.
      const pct = total > 0 ? Math.min(99, Math.floor((done / total) * 100)) : 0
      const line = `${label} ${String(pct).padStart(2)}% (${mib(done)} of ${mib(total)})`
      if (line === last) return
      last = line
      drawn = true
      io.err(`\r\x1b[2K${line}`)
    },
    end(final) {
      if (final !== undefined) io.err(`\r\x1b[2K${label} 100% (${mib(final)})\n`)
      else if (drawn) io.err('\r\x1b[2K')
    },
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MiB`
}
