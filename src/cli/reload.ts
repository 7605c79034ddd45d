import type { Database } from 'bun:sqlite'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { AnyHubEvent } from '../bus/events.ts'
import { queryEvents } from '../store/events.ts'
import { PID_FILE } from '../store/lock.ts'
import { DB_FILE, openDatabase } from '../store/open.ts'
import { CONFIG_OPTION, type Command, str } from './command.ts'
import { configFor } from './config.ts'

const ANSWER_TIMEOUT_MS = 10_000

export const reload: Command = {
  name: 'reload',
  summary: 'Make the hub running on this data dir re-read its config (SIGHUP) and print what it applied.',
  usage: '[--config FILE] [--data-dir DIR]',
  options: {
    ...CONFIG_OPTION,
    'data-dir': {
      type: 'string',
      value: 'DIR',
      description: 'the data dir of the hub to reload (default: from the config)',
    },
  },
  async run(args, io) {
    const given = str(args, 'data-dir')
    const dataDir = given ? resolve(io.cwd, given) : configFor(args, io).config.dataDir
    const pid = runningHub(dataDir)
    if (pid === undefined) {
      io.err(`hearth reload: no Hearth is running on data dir ${dataDir}\n`)
      return 1
    }
    const db = openDatabase(join(dataDir, DB_FILE), { readonly: true })
    try {
      const mark = queryEvents(db, { limit: 1 }).items[0]?.id ?? 0
      process.kill(pid, 'SIGHUP')
      const answer = await answerAfter(db, mark)
      if (!answer) {
        io.err(`hearth reload: sent SIGHUP to pid ${pid}, but it did not report a reload within 10 s\n`)
        return 1
      }
      if (answer.type === 'alert') {
        io.err(`hearth reload: ${answer.detail.message}\n`)
        return 1
      }
      if (answer.type !== 'config.reloaded') return 1
      io.out(describeReload(pid, answer.detail))
      return 0
    } finally {
      db.close()
    }
  },
}

/** What `hearth reload` prints for a reload the hub applied. */
function describeReload(pid: number, r: { applied: string[]; needsRestart: string[] }): string {
  const lines = [`Reloaded the config of the hub (pid ${pid}).`]
  if (!r.applied.length && !r.needsRestart.length) lines.push('Nothing changed.')
  if (r.applied.length) lines.push(`Applied: ${r.applied.join(', ')}`)
  if (r.needsRestart.length)
    lines.push(`Needs a restart (still running with the old value): ${r.needsRestart.join(', ')}`)
  return `${lines.join('\n')}\n`
}

/** The hub's answer to a SIGHUP: its `config.reloaded` event, or the alert of a refused config. */
async function answerAfter(db: Database, mark: number): Promise<AnyHubEvent | undefined> {
  const deadline = Date.now() + ANSWER_TIMEOUT_MS
  for (let wait = 5; Date.now() < deadline; wait = Math.min(wait * 2, 100)) {
    const found = queryEvents(db, { types: ['config.reloaded', 'alert'], limit: 20 })
      .items.filter((e) => (e.id ?? 0) > mark)
      .findLast((e) => e.type === 'config.reloaded' || (e.type === 'alert' && e.detail.source === 'config'))
    if (found) return found
    await Bun.sleep(wait)
  }
  return undefined
}

/**
 * The pid in the data dir's pid file, when that process is alive and is not a newer process that
 * got a dead hub's pid (it would have started after the file was written).
 */
export function runningHub(dataDir: string): number | undefined {
  const file = join(dataDir, PID_FILE)
  let pid: number
  try {
    pid = Number.parseInt(readFileSync(file, 'utf8'), 10)
  } catch {
    return undefined
  }
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return undefined
  const started = startedAt(pid)
  // A second of slack for the clock-tick rounding of the start time.
  if (started !== undefined && started > statSync(file).mtimeMs + 1000) return undefined
  return pid
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** When a process started (ms since the epoch), from Linux's /proc; undefined elsewhere. */
function startedAt(pid: number): number | undefined {
  if (!existsSync('/proc/stat')) return undefined
  try {
    const bootSeconds = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1])
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Field 22, counted after the command name (which may hold spaces) in parentheses; in clock
    // ticks since boot, which Linux reports at 100 a second to user space.
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19])
    return Number.isFinite(bootSeconds) && Number.isFinite(ticks)
      ? bootSeconds * 1000 + ticks * 10
      : undefined
  } catch {
    return undefined
  }
}
