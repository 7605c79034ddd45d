// Debian packages the test suite (and benchmarks) need, installed when missing. We are root on a
// Debian machine; `apt-get update` runs at most once per install. Nothing is skipped: a package
// that cannot be installed fails the run.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

export interface Prerequisite {
  /** Debian package name. */
  pkg: string
  /** Why the suite needs it (printed when it is installed). */
  why: string
}

export const TEST_PREREQS: Prerequisite[] = [
  { pkg: 'mosquitto-clients', why: 'mosquitto_pub / mosquitto_sub as MQTT clients nobody here wrote' },
  { pkg: 'python3-paho-mqtt', why: 'python paho as a second independent MQTT client' },
  { pkg: 'openssl', why: 'independent HMAC vectors and TLS certificates' },
  { pkg: 'zsh', why: 'loading the zsh completion script (hearth completion zsh)' },
  { pkg: 'chromium', why: 'the admin console tested in a real browser (playwright-core, test/web)' },
  {
    pkg: 'systemd',
    why: 'systemd-analyze verify checks the unit `hearth service install` writes, systemd-sysusers makes its user (test/cli/service.test.ts)',
  },
  {
    pkg: 'qemu-user-static',
    why: 'runs dist/hearth-linux-arm64 (the Raspberry Pi build) on this machine (test/binary-arm64.test.ts)',
  },
  {
    pkg: 'libc6-arm64-cross',
    why: 'the arm64 C library and loader qemu-aarch64-static -L needs for that binary',
  },
  // From Google's apt repository (packages.cloud.google.com), not Debian's; it pulls in its own
  // JDK (it depends on openjdk-17-jdk or another of 8, 11, 21).
  {
    pkg: 'google-cloud-cli-firestore-emulator',
    why: "Google's Firestore emulator, the peer of the Firestore schedules tests (test/bridges/firebase)",
  },
]

function missing(pkgs: string[]): string[] {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
  const res = spawnSync('dpkg-query', ['-W', '-f=${Package} ${Status}\n', ...pkgs], { encoding: 'utf8' })
  const installed = new Set(
    res.stdout
      .split('\n')
      .filter((line) => line.endsWith(' install ok installed'))
      .map((line) => line.split(' ')[0]),
  )
  return pkgs.filter((p) => !installed.has(p))
}

/** Installs what is missing; returns an error message or undefined. Fast when all are present. */
export function ensurePrereqs(prereqs: Prerequisite[], write: (s: string) => void): string | undefined {
  const need = missing(prereqs.map((p) => p.pkg))
  if (need.length === 0) return undefined
  for (const p of prereqs.filter((x) => need.includes(x.pkg))) write(`installing ${p.pkg}: ${p.why}\n`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const update = spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit', env })
  if (update.status !== 0) return `apt-get update failed (exit ${update.status})`
  const install = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...need], {
    stdio: 'inherit',
    env,
  })
  if (install.status !== 0) return `apt-get install ${need.join(' ')} failed (exit ${install.status})`
  const still = missing(need)
  return still.length ? `still missing after install: ${still.join(', ')}` : undefined
}

/**
 * promtool from Debian's `prometheus` package, unpacked (never installed: the package would start
 * a Prometheus server) under node_modules/.cache, where `npm ci` clears it with everything else.
 */
export const PROMTOOL_DIR = resolve(import.meta.dir, '../node_modules/.cache/prometheus-deb')
export const PROMTOOL = join(PROMTOOL_DIR, 'usr/bin/promtool')

/**
 * Unpacks promtool once (`apt-get download` + `dpkg-deb -x`); later calls only check that it runs.
 * Returns an error message or undefined.
 */
export function ensurePromtool(write: (s: string) => void): string | undefined {
  if (runs(PROMTOOL)) return undefined
  write(`unpacking promtool from Debian's prometheus package into ${PROMTOOL_DIR}\n`)
  mkdirSync(dirname(PROMTOOL_DIR), { recursive: true })
  const work = mkdtempSync(`${PROMTOOL_DIR}.tmp-`)
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    const download = () =>
      spawnSync('apt-get', ['download', '-q', 'prometheus'], { cwd: work, env, encoding: 'utf8' })
    let res = download()
    if (res.status !== 0) {
      // The package lists may be missing or stale (a fresh machine): update once and try again.
      const update = spawnSync('apt-get', ['update', '-q'], { env, encoding: 'utf8' })
      if (update.status !== 0) return `apt-get update failed (exit ${update.status}): ${update.stderr}`
      res = download()
    }
    if (res.status !== 0) return `apt-get download prometheus failed (exit ${res.status}): ${res.stderr}`
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'))
    if (!deb) return 'apt-get download prometheus left no .deb'
    const root = join(work, 'root')
    const unpack = spawnSync('dpkg-deb', ['-x', join(work, deb), root], { encoding: 'utf8' })
    if (unpack.status !== 0) return `dpkg-deb -x ${deb} failed (exit ${unpack.status}): ${unpack.stderr}`
    // Swapped in whole, so a run stopped half-way never leaves a partial tree that looks ready.
    rmSync(PROMTOOL_DIR, { recursive: true, force: true })
    renameSync(root, PROMTOOL_DIR)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  return runs(PROMTOOL) ? undefined : `${PROMTOOL} does not run after unpacking`
}

function runs(bin: string): boolean {
  return existsSync(bin) && spawnSync(bin, ['--version'], { encoding: 'utf8' }).status === 0
}
