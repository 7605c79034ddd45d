import { stringify } from 'smol-toml'
import { formatDuration } from '../util/duration.ts'
import { CONFIG_LEAVES } from './load.ts'
import { type Config, configSchema } from './schema.ts'
import { envName } from './walk.ts'

/**
 * A `hearth.toml` listing every key with its default, each commented out, so the file documents
 * the configuration and changes nothing until a line is uncommented.
 */
export function configTemplate(): string {
  const defaults = configSchema.parse({}) as Config
  const lines = [
    '# Hearth configuration. Every key is shown with its default, commented out.',
    '# Uncomment a line to change it. Any key can also be set by an environment variable:',
    '# HEARTH_ + the key path in upper snake case (mqtt.allowAnonymous -> HEARTH_MQTT_ALLOW_ANONYMOUS).',
    '# Secrets can be read from files: set <key>File instead of <key>.',
    '',
  ]
  let section = ''
  // TOML: keys of the root table must come before the first [table] header.
  const ordered = [...CONFIG_LEAVES].sort((a, b) => Number(a.path.length > 1) - Number(b.path.length > 1))
  for (const leaf of ordered) {
    const table = leaf.path.slice(0, -1).join('.')
    if (table !== section) {
      section = table
      lines.push('', `[${table}]`)
    }
    const key = leaf.path.at(-1)!
    const value = leaf.path.reduce<unknown>(
      (obj, k) => (obj as Record<string, unknown> | undefined)?.[k],
      defaults,
    )
    if (leaf.description) lines.push(`# ${leaf.description} (${envName(leaf.path)})`)
    else lines.push(`# (${envName(leaf.path)})`)
    if (value === undefined) lines.push(`# ${key} = ""`)
    else
      lines.push(
        `# ${key} = ${tomlValue(leaf.duration && typeof value === 'number' ? formatDuration(value) : value)}`,
      )
  }
  return `${lines.join('\n')}\n`
}

function tomlValue(value: unknown): string {
  // A table-valued key (a map such as homeAssistant.units) stays on its line as an inline table.
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)} = ${tomlValue(v)}`)
    return entries.length ? `{ ${entries.join(', ')} }` : '{}'
  }
  // smol-toml renders values only inside a table; take the right-hand side of `v = …`.
  return stringify({ v: value }).replace(/^v = /, '').trim()
}
