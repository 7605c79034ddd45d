// Renders the configuration reference (every key, its env variable, default and meaning) as a
// Markdown table. `bun scripts/config-reference.ts --write` updates README.md between its markers;
// test/readme.test.ts fails when the README is out of date.
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { CONFIG_LEAVES } from '../src/config/load.ts'
import { configSchema } from '../src/config/schema.ts'
import { envName } from '../src/config/walk.ts'
import { formatDuration } from '../src/util/duration.ts'

export const BEGIN = '<!-- config-reference:begin -->'
export const END = '<!-- config-reference:end -->'

export function configReference(): string {
  const defaults = configSchema.parse({}) as Record<string, unknown>
  const rows = CONFIG_LEAVES.map((leaf) => {
    const value = leaf.path.reduce<unknown>(
      (o, k) => (o as Record<string, unknown> | undefined)?.[k],
      defaults,
    )
    const shown =
      value === undefined
        ? '(unset)'
        : leaf.duration && typeof value === 'number'
          ? formatDuration(value)
          : JSON.stringify(value)
    const what = `${leaf.description ?? ''}${leaf.secret ? ' (secret; masked by check-config)' : ''}`
    return `| \`${leaf.path.join('.')}\` | \`${envName(leaf.path)}\` | \`${shown}\` | ${what.replace(/\|/g, '\\|')} |`
  })
  return ['| key | environment | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n')
}

export function withReference(readme: string): string {
  const start = readme.indexOf(BEGIN)
  const end = readme.indexOf(END)
  if (start < 0 || end < start) throw new Error('README.md lacks the config-reference markers')
  return `${readme.slice(0, start + BEGIN.length)}\n${configReference()}\n${readme.slice(end)}`
}

if (import.meta.main) {
  const file = resolve(import.meta.dir, '../README.md')
  const next = withReference(readFileSync(file, 'utf8'))
  if (process.argv.includes('--write')) writeFileSync(file, next)
  else process.stdout.write(`${configReference()}\n`)
}
