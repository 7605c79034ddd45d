// `npm run bench`: every benchmark in this folder, one after another (or those named as arguments).
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

const names = process.argv.slice(2)
const all = readdirSync(import.meta.dir).filter(
  (f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'),
)
const chosen = names.length ? all.filter((f) => names.some((n) => f.startsWith(n))) : all
let failed = 0
for (const file of chosen.sort()) {
  process.stdout.write(`\n== ${file}\n`)
  const res = Bun.spawnSync([process.execPath, join(import.meta.dir, file)], {
    stdout: 'inherit',
    stderr: 'inherit',
  })
  if (res.exitCode !== 0) failed++
}
process.exit(failed ? 1 : 0)
