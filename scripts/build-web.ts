// Bundles the admin console (web/src) into web/dist: app.js + app.css (the
// console, uPlot included) and mqtt.js (the MQTT explorer's client, loaded only on that page).
// The names are fixed because src/http/console/static.ts imports them with `type: 'file'`, which
// is how `bun build --compile` embeds them in dist/hearth. Run by `npm run build`, `npm start`,
// `npm test` and the test preload whenever a source is newer than the bundle.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dir, '..')
export const WEB_SRC = join(ROOT, 'web', 'src')
export const WEB_DIST = join(ROOT, 'web', 'dist')
/** What static.ts embeds; all of them must exist after a build. */
export const WEB_OUTPUTS = ['app.js', 'app.css', 'mqtt.js'] as const

function newest(path: string): number {
  const st = statSync(path)
  if (!st.isDirectory()) return st.mtimeMs
  let n = 0
  for (const entry of readdirSync(path)) n = Math.max(n, newest(join(path, entry)))
  return n
}

/** True when web/dist lacks an output or is older than web/src or the installed packages. */
export function webIsStale(outdir = WEB_DIST): boolean {
  const outputs = WEB_OUTPUTS.map((f) => join(outdir, f))
  if (!outputs.every((f) => existsSync(f))) return true
  const built = Math.min(...outputs.map((f) => statSync(f).mtimeMs))
  const lock = join(ROOT, 'package-lock.json')
  const inputs = [newest(WEB_SRC), existsSync(lock) ? statSync(lock).mtimeMs : 0]
  return Math.max(...inputs) > built
}

/** Bundles the console into `outdir` (minified, for browsers, no source maps, no CDN). */
export async function buildWeb(outdir = WEB_DIST): Promise<void> {
  // Build beside the target and swap in at the end, so a hub importing web/dist never sees half a build.
  const tmp = `${outdir}.tmp-${process.pid}`
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(tmp, { recursive: true })
  try {
    const common = { target: 'browser', format: 'esm', minify: true, sourcemap: 'none' } as const
    const app = await Bun.build({
      ...common,
      entrypoints: [join(WEB_SRC, 'app.ts')],
      outdir: tmp,
      naming: { entry: '[name].[ext]', asset: '[name].[ext]' },
    })
    const mqtt = await Bun.build({
      ...common,
      entrypoints: [join(WEB_SRC, 'mqtt.ts')],
      outdir: tmp,
      naming: { entry: '[name].[ext]' },
    })
    for (const result of [app, mqtt]) {
      if (!result.success) throw new AggregateError(result.logs, 'bundling the console failed')
    }
    for (const f of WEB_OUTPUTS) {
      if (!existsSync(join(tmp, f))) throw new Error(`bundling the console did not produce ${f}`)
    }
    mkdirSync(outdir, { recursive: true })
    for (const f of WEB_OUTPUTS) renameSync(join(tmp, f), join(outdir, f))
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

/** Builds when stale; returns whether it built. */
export async function ensureWeb(outdir = WEB_DIST): Promise<boolean> {
  if (!webIsStale(outdir)) return false
  await buildWeb(outdir)
  return true
}

if (import.meta.main) {
  const t0 = performance.now()
  let built = true
  if (process.argv.includes('--if-stale')) built = await ensureWeb()
  else await buildWeb()
  const ms = Math.round(performance.now() - t0)
  // `--quiet` (npm run hearth): a CLI command's output stays its own unless a build happened.
  if (built) process.stderr.write(`web/dist built in ${ms} ms\n`)
  else if (!process.argv.includes('--quiet')) process.stderr.write('web/dist is up to date\n')
}
