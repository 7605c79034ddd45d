import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/load.ts'
import type { Config } from '../../src/config/schema.ts'
import { createHub, type Hub } from '../../src/hub.ts'
import { createLogger, type LogLevel } from '../../src/log.ts'
import type { Backoff } from '../../src/runtime/runtime.ts'

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K]
}

export interface TestHub extends AsyncDisposable {
  hub: Hub
  config: Config
  dataDir: string
  mqttPort: number
  httpPort: number
  /** `http://127.0.0.1:<port>` */
  url: string
  /** `mqtt://127.0.0.1:<port>` */
  mqttUrl: string
  adminPassword: string
  /** A fatal service failure reported by the hub, if any. */
  fatal: unknown
  stop(): Promise<void>
}

export interface TestHubOptions {
  /** Reuse a data dir (to restart a hub on the same database); it is then not deleted. */
  dataDir?: string
  backoff?: Backoff
  now?: () => number
}

/**
 * The whole hub on port 0 with a temp data dir [STYLE 14]: `await using t = await startTestHub()`.
 * Config overrides go through the same schema as a real config file.
 */
export async function startTestHub(
  overrides: DeepPartial<Config> | Record<string, unknown> = {},
  opts: TestHubOptions = {},
): Promise<TestHub> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'hearth-test-'))
  const ownDir = !opts.dataDir
  const base = {
    dataDir,
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    admin: { password: 'test-admin-password' },
  }
  const { config } = loadConfig({
    cwd: dataDir,
    env: {},
    overrides: merge(base, overrides as Record<string, unknown>),
  })
  const level = (process.env.HEARTH_TEST_LOG as LogLevel | undefined) ?? 'silent'
  const log = createLogger({ level, format: 'pretty' })
  let fatal: unknown
  const hub = createHub({
    config,
    log,
    onFatal: (err) => {
      fatal = err
    },
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  })
  await hub.start()
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await hub.stop()
    if (ownDir) rmSync(dataDir, { recursive: true, force: true })
  }
  return {
    hub,
    config,
    dataDir,
    mqttPort: hub.mqttPort,
    httpPort: hub.httpPort,
    url: `http://127.0.0.1:${hub.httpPort}`,
    mqttUrl: `mqtt://127.0.0.1:${hub.mqttPort}`,
    adminPassword: config.admin.password ?? '',
    get fatal() {
      return fatal
    },
    stop,
    [Symbol.asyncDispose]: stop,
  }
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a }
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k]
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
        ? merge(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v
  }
  return out
}

/** A fresh temp dir removed on dispose. */
export function tempDir(prefix = 'hearth-test-'): { path: string } & Disposable {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) }
}
