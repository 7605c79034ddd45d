import { describe, expect, it } from 'bun:test'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { DataDirLockedError, LOCK_FILE, lockDataDir, lockHolder, PID_FILE } from '../../src/store/lock.ts'
import { cli } from '../helpers/cli.ts'
import { startTestHub, tempDir } from '../helpers/hub.ts'
import { spawnHub } from '../helpers/process.ts'
import { waitFor } from '../helpers/wait.ts'

const MAIN = resolve(import.meta.dir, '../../src/main.ts')

/** The one-letter state in /proc/<pid>/stat (`Z` for a zombie), or undefined once it is gone. */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
  } catch {
    return undefined
  }
}

async function runToExit(args: string[], env: Record<string, string>) {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HEARTH_MQTT_PORT: '0', HEARTH_HTTP_PORT: '0', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
  return { code, stderr }
}

describe('the data-dir lock', () => {
  it('is held until released, names its holder, and leaves no pid file behind', () => {
    using dir = tempDir()
    const release = lockDataDir(dir.path, 4242)
    expect(lockHolder(dir.path)).toEqual({ pid: 4242 })
    expect(readFileSync(join(dir.path, PID_FILE), 'utf8')).toBe('4242\n')
    expect(() => lockDataDir(dir.path)).toThrow(DataDirLockedError)
    expect(() => lockDataDir(dir.path)).toThrow('another Hearth (pid 4242) is running')
    release()
    release()
    expect(lockHolder(dir.path)).toBeUndefined()
    expect(existsSync(join(dir.path, PID_FILE))).toBe(false)
    // Kept on purpose: removing it could let two hubs lock two different files at one path.
    expect(existsSync(join(dir.path, LOCK_FILE))).toBe(true)
    lockDataDir(dir.path)()
  })

  it('is not blocked by a pid file naming a live process that is not a hub (PID 1, the test runner)', async () => {
    for (const pid of [1, process.pid]) {
      using dir = tempDir()
      writeFileSync(join(dir.path, PID_FILE), `${pid}\n`)
      writeFileSync(join(dir.path, LOCK_FILE), `${pid}\n`)
      await using t = await startTestHub({}, { dataDir: dir.path })
      expect(lockHolder(dir.path)).toEqual({ pid: process.pid })
      await t.stop()
    }
  })

  it('lets a second hub on the same data dir exit 1 naming the pid of the first', async () => {
    await using first = await spawnHub(['serve'])
    const second = await runToExit(['serve'], { HEARTH_DATA_DIR: first.dataDir })
    expect(second.code).toBe(1)
    expect(second.stderr).toContain(`another Hearth (pid ${first.proc.pid}) is running on data dir`)
    // restore keeps its check, now through the lock of a hub in another process.
    const restore = await cli(['restore', 'any.db'], {
      cwd: first.dataDir,
      env: { HEARTH_DATA_DIR: first.dataDir },
    })
    expect(restore.code).toBe(1)
    expect(restore.err).toContain(`a hub (pid ${first.proc.pid}) is running on ${first.dataDir}`)
    expect(await first.kill()).toBe(0)
  })

  it('lets a hub start at once after the previous one was SIGKILLed and is still an unreaped zombie', async () => {
    using dir = tempDir()
    // `sh` starts the hub in the background and becomes `sleep`, which never reaps its child: the
    // killed hub stays a zombie for as long as the test needs.
    await using parent = await spawnHub(
      ['serve'],
      { HEARTH_DATA_DIR: dir.path },
      {
        command: ['sh', '-c', '"$@" & exec sleep 120', 'sh', process.execPath, MAIN],
      },
    )
    const killed = Number(readFileSync(join(dir.path, PID_FILE), 'utf8'))
    expect(killed).not.toBe(parent.proc.pid)
    process.kill(killed, 'SIGKILL')
    await waitFor(() => procState(killed) === 'Z', { what: 'the killed hub to be a zombie' })

    await using next = await spawnHub(['serve'], { HEARTH_DATA_DIR: dir.path })
    expect(procState(killed)).toBe('Z')
    expect(lockHolder(dir.path)).toEqual({ pid: next.proc.pid })
    expect((await fetch(`${next.url}/healthz`)).status).toBe(200)
    expect(await next.kill()).toBe(0)
  })
})
