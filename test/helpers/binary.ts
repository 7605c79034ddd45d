import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dir, '../..')
export const BINARY = join(ROOT, 'dist', 'hearth')
/** `npm run build:arm64`'s output: the Raspberry Pi (and other aarch64 Linux) build. */
export const ARM64_BINARY = join(ROOT, 'dist', 'hearth-linux-arm64')

function newestSource(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs)
  }
  return newest
}

/** Runs `bun build --compile` as the npm script does, unless `outfile` is newer than every source. */
function ensureBuilt(outfile: string, extra: string[]): string {
  const sources = Math.max(
    newestSource(join(ROOT, 'src')),
    existsSync(join(ROOT, 'web')) ? newestSource(join(ROOT, 'web')) : 0,
  )
  if (existsSync(outfile) && statSync(outfile).mtimeMs > sources) return outfile
  const res = Bun.spawnSync(
    [
      process.execPath,
      'build',
      '--compile',
      '--minify',
      ...extra,
      'src/main.ts',
      'src/cli/vacuum-worker.ts',
      '--outfile',
      outfile,
    ],
    { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' },
  )
  if (res.exitCode !== 0) throw new Error(`building ${outfile} failed:\n${res.stderr.toString()}`)
  return outfile
}

/** `dist/hearth` as `npm run build` makes it, built when missing or older than the sources. */
export function ensureBinary(): string {
  return ensureBuilt(BINARY, [])
}

/** `dist/hearth-linux-arm64` as `npm run build:arm64` makes it, built when missing or stale. */
export function ensureArm64Binary(): string {
  return ensureBuilt(ARM64_BINARY, ['--target=bun-linux-arm64'])
}
