import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Subprocess } from 'bun'
import { deadline } from './wait.ts'

const ROOT = resolve(import.meta.dir, '../..')

/** One JSON log line of the hub (`{"time","level","module","msg",...fields}`). */
export type LogEntry = { level?: string; module?: string; msg?: string } & Record<string, unknown>

export interface HubProcess extends AsyncDisposable {
  readonly proc: Subprocess<'ignore', 'pipe', 'pipe'>
  readonly dataDir: string
  /** Learned from the hub's "hearth is running" log line. */
  readonly mqttPort: number
  readonly httpPort: number
  readonly mqttUrl: string
  readonly url: string
  /** Every stdout line so far. */
  readonly lines: readonly string[]
  /** stderr so far. */
  readonly stderr: string
  /** The stdout lines that are JSON log entries. */
  logs(): LogEntry[]
  /** Resolves with the first log entry (past or future) that `match` accepts. */
  waitForLog(match: (entry: LogEntry) => boolean, timeoutMs?: number): Promise<LogEntry>
  /** Sends the signal (default SIGTERM) and resolves with the exit code once the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<number>
  readonly exited: Promise<number>
}

export interface SpawnHubOptions {
  /** The command before `args`; default: this Bun running `src/main.ts` (pass the binary to test it). */
  command?: string[]
  /** How long to wait for the hub to report its ports. */
  startTimeoutMs?: number
}

/**
 * Runs `hearth <args>` as a child process on loopback port 0 and learns its ports from its JSON
 * log: `await using hub = await spawnHub(['serve'], { HEARTH_DATA_DIR: dir })`. Without a
 * HEARTH_DATA_DIR a temp dir is made and removed on dispose; dispose kills the process (SIGKILL
 * if SIGTERM is not enough).
 */
export async function spawnHub(
  args: string[] = ['serve'],
  /** Added to the defaults below; `undefined` removes one of them. */
  env: Record<string, string | undefined> = {},
  opts: SpawnHubOptions = {},
): Promise<HubProcess> {
  const ownDir = env.HEARTH_DATA_DIR === undefined
  const dataDir = env.HEARTH_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'hearth-proc-'))
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HEARTH_')))
  const merged: Record<string, string | undefined> = {
    ...inherited,
    HEARTH_DATA_DIR: dataDir,
    HEARTH_MQTT_HOST: '127.0.0.1',
    HEARTH_MQTT_PORT: '0',
    HEARTH_HTTP_HOST: '127.0.0.1',
    HEARTH_HTTP_PORT: '0',
    HEARTH_LOG_FORMAT: 'json',
    HEARTH_LOG_LEVEL: 'info',
    HEARTH_ADMIN_PASSWORD: 'test-admin-password',
    ...env,
  }
  const proc = Bun.spawn([...(opts.command ?? [process.execPath, join(ROOT, 'src/main.ts')]), ...args], {
    cwd: ROOT,
    env: Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })

  const lines: string[] = []
  const waiters = new Set<() => void>()
  let stderr = ''
  const notify = () => {
    for (const w of waiters) w()
  }
  const pump = async (stream: ReadableStream<Uint8Array>, onText: (text: string) => void) => {
    const decoder = new TextDecoder()
    for await (const chunk of stream) onText(decoder.decode(chunk, { stream: true }))
  }
  let partial = ''
  const reading = Promise.all([
    pump(proc.stdout, (text) => {
      const parts = (partial + text).split('\n')
      partial = parts.pop() ?? ''
      lines.push(...parts)
      notify()
    }),
    pump(proc.stderr, (text) => {
      stderr += text
    }),
  ]).finally(notify)
  let done = false
  const exited = proc.exited.then(async (code) => {
    await reading
    done = true
    notify()
    return code
  })

  const logs = (): LogEntry[] => {
    const out: LogEntry[] = []
    for (const line of lines) {
      if (!line.startsWith('{')) continue
      try {
        out.push(JSON.parse(line) as LogEntry)
      } catch {
        // not a log line
      }
    }
    return out
  }

  const waitForLog = (match: (entry: LogEntry) => boolean, timeoutMs = 15_000): Promise<LogEntry> =>
    new Promise<LogEntry>((resolvePromise, reject) => {
      const check = () => {
        const found = logs().find(match)
        if (found) finish(() => resolvePromise(found))
        else if (done) finish(() => reject(new Error(`hub exited first; stderr:\n${stderr}`)))
      }
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no matching log line in ${timeoutMs} ms; stderr:\n${stderr}`))),
        timeoutMs,
      )
      const finish = (fn: () => void) => {
        clearTimeout(timer)
        waiters.delete(check)
        fn()
      }
      waiters.add(check)
      check()
    })

  const kill = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number> => {
    if (!done) proc.kill(signal)
    return exited
  }

  const dispose = async () => {
    if (!done) {
      proc.kill('SIGTERM')
      const code = await Promise.race([exited, deadline(5000)])
      if (code === undefined) await kill('SIGKILL')
    }
    if (ownDir) rmSync(dataDir, { recursive: true, force: true })
  }

  let running: LogEntry
  try {
    running = await waitForLog((e) => e.msg === 'hearth is running', opts.startTimeoutMs)
  } catch (err) {
    await dispose()
    throw err
  }
  const mqttPort = Number(running.mqttPort)
  const httpPort = Number(new URL(String(running.console)).port)
  return {
    proc,
    dataDir,
    mqttPort,
    httpPort,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    url: `http://127.0.0.1:${httpPort}`,
    lines,
    get stderr() {
      return stderr
    },
    logs,
    waitForLog,
    kill,
    exited,
    [Symbol.asyncDispose]: dispose,
  }
}

/** How a process run to its end finished: its exit code and everything it wrote. */
export interface Finished {
  code: number
  out: string
  err: string
}

/** Runs `cmd` to its end in `cwd` with exactly `env` and no input. */
export async function runToEnd(
  cmd: string[],
  { cwd, env }: { cwd: string; env: Record<string, string | undefined> },
): Promise<Finished> {
  const proc = Bun.spawn(cmd, { cwd, env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  return { code, out, err }
}

/**
 * Runs `hearth <argv>` to the end in a child process (this Bun running `src/main.ts`), as a
 * person at a shell next to a running hub would; `env` is added to this process's.
 */
export function runHearth(argv: string[], env: Record<string, string> = {}): Promise<Finished> {
  return runToEnd([process.execPath, join(ROOT, 'src/main.ts'), ...argv], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  })
}
