import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { loadConfig } from '../../src/config/load.ts'
import type { ReloadOutcome } from '../../src/hub.ts'
import { startTestHub, type TestHub, type TestHubOptions } from './hub.ts'

export interface FileHub extends TestHub {
  /** The config file the hub was started from. */
  file: string
  /** Writes `toml` to the file and reloads it, as SIGHUP does. */
  rewrite(toml: string): ReloadOutcome
}

/**
 * An in-process hub started from a real TOML file that the test rewrites and reloads; the data
 * dir, loopback hosts, port 0 and the admin password come on top of the file, as for every test hub.
 */
export async function startFileHub(toml: string, opts: TestHubOptions = {}): Promise<FileHub> {
  const t = await startTestHub(parseToml(toml) as Record<string, unknown>, opts)
  const file = join(t.dataDir, 'hearth.toml')
  const overrides = {
    dataDir: t.dataDir,
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    admin: { password: t.adminPassword },
  }
  const rewrite = (text: string) => {
    writeFileSync(file, text)
    return t.hub.reload(() => loadConfig({ file, cwd: t.dataDir, env: {}, overrides }).config)
  }
  writeFileSync(file, toml)
  return Object.assign(t, { file, rewrite })
}
