import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dir, '../..')
export const BINARY = join(ROOT, 'dist', 'hearth')

function newestSource(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs)
  }
  return newest
}

/** Builds `dist/hearth` with `npm run build`'s command unless a build newer than every source exists. */
export function ensureBinary(): string {
  const sources = Math.max(
    newestSource(join(ROOT, 'src')),
    existsSync(join(ROOT, 'web')) ? newestSource(join(ROOT, 'web')) : 0,
  )
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs > sources) return BINARY
  const res = Bun.spawnSync(
    [
      process.execPath,
      'build',
      '--compile',
      '--minify',
      'src/main.ts',
      'src/cli/vacuum-worker.ts',
      '--outfile',
      BINARY,
    ],
    {
      cwd: ROOT,
      stdout: 'pipe',
      stderr: 'pipe',
    },
  )
  if (res.exitCode !== 0) throw new Error(`building dist/hearth failed:\n${res.stderr.toString()}`)
  return BINARY
}
