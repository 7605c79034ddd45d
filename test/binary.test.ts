// The binary is the product [STYLE 20]: these tests run the compiled `dist/hearth`, not the sources.
import { describe, expect, it } from 'bun:test'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { verifyBackup } from '../src/cli/backup.ts'
import { openStore } from '../src/store/open.ts'
import { ensureBinary } from './helpers/binary.ts'
import { tempDir } from './helpers/hub.ts'
import { runToEnd } from './helpers/process.ts'
import { waitFor } from './helpers/wait.ts'

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' }

function spawnBinary(cwd: string, env: Record<string, string>) {
  const proc = Bun.spawn([ensureBinary()], { cwd, env: { ...ENV, ...env }, stdout: 'pipe', stderr: 'pipe' })
  let stdout = ''
  let stderr = ''
  const pump = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    for await (const chunk of stream) add(new TextDecoder().decode(chunk))
  }
  const done = Promise.all([pump(proc.stdout, (s) => (stdout += s)), pump(proc.stderr, (s) => (stderr += s))])
  return {
    proc,
    get stdout() {
      return stdout
    },
    get stderr() {
      return stderr
    },
    /** Port a listener logged, from the JSON log lines. */
    port(module: 'mqtt' | 'http'): number | undefined {
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue
        const rec = JSON.parse(line)
        if (rec.module === module && rec.msg === 'listening') return rec.port ?? Number(new URL(rec.url).port)
      }
      return undefined
    },
    async exit() {
      const code = await proc.exited
      await done
      return code
    },
  }
}

describe('the compiled binary', () => {
  it('starts from an empty directory on defaults, answers /healthz, writes the admin password and exits 0 on SIGTERM', async () => {
    using dir = tempDir()
    const hub = spawnBinary(dir.path, { HEARTH_MQTT_PORT: '0', HEARTH_HTTP_PORT: '0' })
    try {
      const httpPort = await waitFor(() => hub.port('http'), { what: 'the HTTP listener', timeoutMs: 20_000 })
      await waitFor(() => hub.stdout.includes('"msg":"hearth is running"'), { what: 'the ready line' })
      const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ status: 'ok' })
      const file = join(dir.path, 'data', 'initial-admin-password')
      expect(existsSync(file)).toBe(true)
      expect(statSync(file).mode & 0o777).toBe(0o600)
      // stdout is a pipe, so JSON logs: the password is in the file only, and a line says where.
      await waitFor(() => hub.stdout.includes('initial-admin-password'), { what: 'the line naming the file' })
      expect(hub.stdout).not.toContain(readFileSync(file, 'utf8').trim())
      expect(existsSync(join(dir.path, 'data', 'hearth.db'))).toBe(true)
    } finally {
      hub.proc.kill('SIGTERM')
    }
    expect(await hub.exit()).toBe(0)
  })

  it('holds the data-dir lock: a second binary on the same data dir exits 1 naming the pid of the first', async () => {
    using dir = tempDir()
    const env = { HEARTH_MQTT_PORT: '0', HEARTH_HTTP_PORT: '0' }
    const first = spawnBinary(dir.path, env)
    try {
      // stdout is a pipe, so JSON logs: "hearth is running" is the ready line.
      await waitFor(() => first.stdout.includes('hearth is running'), {
        what: 'the ready line',
        timeoutMs: 20_000,
      })
      const second = spawnBinary(dir.path, env)
      expect(await second.exit()).toBe(1)
      expect(second.stderr).toContain(`another Hearth (pid ${first.proc.pid}) is running on data dir`)
    } finally {
      first.proc.kill('SIGTERM')
    }
    expect(await first.exit()).toBe(0)
  })

  it('exits 1 naming the port when the port is already in use', async () => {
    using dir = tempDir()
    const blocker = Bun.listen({ hostname: '0.0.0.0', port: 0, socket: { data() {} } })
    try {
      const hub = spawnBinary(dir.path, { HEARTH_MQTT_PORT: '0', HEARTH_HTTP_PORT: String(blocker.port) })
      expect(await hub.exit()).toBe(1)
      expect(hub.stderr).toContain(
        `cannot listen for HTTP on 0.0.0.0:${blocker.port}: the port is already in use`,
      )
    } finally {
      blocker.stop(true)
    }
  })

  it('exits 1 with a clear message when the data dir cannot be written', async () => {
    using dir = tempDir()
    // We run as root, so permissions cannot stop us: a regular file where a directory must go can.
    writeFileSync(join(dir.path, 'not-a-dir'), 'x')
    const hub = spawnBinary(dir.path, {
      HEARTH_MQTT_PORT: '0',
      HEARTH_HTTP_PORT: '0',
      HEARTH_DATA_DIR: 'not-a-dir/data',
    })
    expect(await hub.exit()).toBe(1)
    expect(hub.stderr).toContain(`data dir ${join(dir.path, 'not-a-dir/data')} is not writable`)
  })

  it('exits 1 naming the key when the configuration is wrong', async () => {
    using dir = tempDir()
    mkdirSync(join(dir.path, 'data'))
    const hub = spawnBinary(dir.path, { HEARTH_MQTT_PORT: 'many' })
    expect(await hub.exit()).toBe(1)
    expect(hub.stderr).toContain('mqtt.port (from HEARTH_MQTT_PORT): "many" is not a number')
  })

  it('backs up with its bundled VACUUM worker', async () => {
    using dir = tempDir()
    openStore(join(dir.path, 'data')).db.close()
    const run = await runToEnd([ensureBinary(), 'backup', 'snap.db'], {
      cwd: dir.path,
      env: { ...ENV, HEARTH_LOG_LEVEL: 'silent' },
    })
    expect(run).toEqual({
      out: `backup written to ${join(dir.path, 'snap.db')}\n`,
      err: '',
      code: 0,
    })
    expect(verifyBackup(join(dir.path, 'snap.db'))).toBeUndefined()
  })
})
