import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import type { z } from 'zod'
import { readSecretFile } from '../util/secret-file.ts'
import { type Config, configSchema } from './schema.ts'
import { envName, type Leaf, leaves, maskSecrets } from './walk.ts'

/** A configuration problem, naming every offending key path. */
export class ConfigError extends Error {
  constructor(
    readonly problems: string[],
    readonly file?: string,
  ) {
    super(`invalid configuration${file ? ` in ${file}` : ''}:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/** Where a service install puts the config; the last place looked when nothing names a file. */
const SYSTEM_CONFIG = '/etc/hearth/hearth.toml'

interface LoadOptions {
  /** `--config PATH`; falls back to `HEARTH_CONFIG`, then `./hearth.toml`, then `systemFile`, when they exist. */
  file?: string
  /** Default SYSTEM_CONFIG; tests point it elsewhere. */
  systemFile?: string
  env?: Record<string, string | undefined>
  cwd?: string
  /** Values applied on top of file and environment (tests use this for ports and data dirs). */
  overrides?: Record<string, unknown>
}

export interface LoadedConfig {
  config: Config
  /** The file that was read, if any. */
  file?: string
}

const CONFIG_LEAVES = leaves(configSchema)
const NOT_KEYS = new Set(['HEARTH_CONFIG'])

/** Reads file, environment and overrides, in that order of precedence (last wins), and validates. */
export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? {}
  const cwd = opts.cwd ?? process.cwd()
  const explicit = opts.file ?? env.HEARTH_CONFIG
  const file = explicit
    ? resolve(cwd, explicit)
    : [resolve(cwd, 'hearth.toml'), opts.systemFile ?? SYSTEM_CONFIG].find((f) => existsSync(f))

  let raw: Record<string, unknown> = {}
  if (file) {
    if (!existsSync(file)) throw new ConfigError([`config file ${file} does not exist`])
    try {
      raw = parseToml(readFileSync(file, 'utf8')) as Record<string, unknown>
    } catch (err) {
      throw new ConfigError([`not valid TOML: ${(err as Error).message}`], file)
    }
  }

  const problems: string[] = []
  applyEnv(raw, env, problems)
  if (opts.overrides) deepMerge(raw, opts.overrides)
  readSecretFiles(raw, CONFIG_LEAVES, cwd, problems)
  if (problems.length) throw new ConfigError(problems, file)

  const parsed = configSchema.safeParse(raw)
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error), file)
  return { config: parsed.data, file }
}

function applyEnv(raw: Record<string, unknown>, env: Record<string, string | undefined>, problems: string[]) {
  const byName = new Map(CONFIG_LEAVES.map((leaf) => [envName(leaf.path), leaf]))
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('HEARTH_') || NOT_KEYS.has(name) || value === undefined) continue
    const leaf = byName.get(name)
    if (!leaf) {
      problems.push(`${name}: environment variable does not name a config key`)
      continue
    }
    const parsed = fromEnv(leaf, value)
    if (parsed.ok) setPath(raw, leaf.path, parsed.value)
    else problems.push(`${leaf.path.join('.')} (from ${name}): ${parsed.error}`)
  }
}

function fromEnv(leaf: Leaf, text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  switch (leaf.kind) {
    case 'string':
      return { ok: true, value: text }
    case 'number': {
      const n = Number(text)
      return text.trim() !== '' && Number.isFinite(n)
        ? { ok: true, value: n }
        : { ok: false, error: `"${text}" is not a number` }
    }
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(text)) return { ok: true, value: true }
      if (/^(false|0|no|off)$/i.test(text)) return { ok: true, value: false }
      return { ok: false, error: `"${text}" is not a boolean (true/false)` }
    case 'json':
      try {
        return { ok: true, value: JSON.parse(text) }
      } catch {
        return { ok: false, error: 'expected a JSON value' }
      }
  }
}

// `passwordFile = "/run/secrets/x"` fills `password` from that file. Keys inside arrays
// (`hooks[].secretFile`) are read when the item is first used (src/store/secret-definitions.ts), so an
// unreadable hook secret fails that hook closed instead of the whole start.
function readSecretFiles(raw: Record<string, unknown>, all: Leaf[], cwd: string, problems: string[]) {
  for (const leaf of all) {
    const last = leaf.path.at(-1)!
    if (!last.endsWith('File') || last.length === 4) continue
    const target = [...leaf.path.slice(0, -1), last.slice(0, -4)]
    const path = getPath(raw, leaf.path)
    if (typeof path !== 'string') continue
    try {
      setPath(raw, target, readSecretFile(path, cwd))
    } catch (err) {
      problems.push(
        `${leaf.path.join('.')}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      )
    }
  }
}

function describeIssues(error: z.ZodError): string[] {
  return error.issues.flatMap((issue) => {
    const at = issue.path.join('.')
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => `${at ? `${at}.` : ''}${k}: unknown key`)
    }
    return [`${at || '(root)'}: ${issue.message}`]
  })
}

function getPath(obj: Record<string, unknown>, path: string[]): unknown {
  let cur: unknown = obj
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return undefined
    cur = (cur as Record<string, unknown>)[key]
  }
  return cur
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown) {
  let cur = obj
  for (const key of path.slice(0, -1)) {
    const next = cur[key]
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[key] = {}
    cur = cur[key] as Record<string, unknown>
  }
  cur[path.at(-1)!] = value
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>) {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key]
    if (isPlainObject(value) && isPlainObject(existing)) deepMerge(existing, value)
    else target[key] = isPlainObject(value) ? deepMerge({}, value) : value
  }
  return target
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** The effective config as printable JSON, secrets masked. */
export function maskedConfig(config: Config): Record<string, unknown> {
  return maskSecrets(configSchema, config) as Record<string, unknown>
}

export { CONFIG_LEAVES }
