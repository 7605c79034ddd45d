import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { withReference } from '../scripts/config-reference.ts'
import { COMMANDS } from '../src/cli/index.ts'

const readme = readFileSync(resolve(import.meta.dir, '../README.md'), 'utf8')

describe('README', () => {
  it('opens with the two commands a newcomer runs', () => {
    const firstLines = readme.split('\n').slice(0, 20).join('\n')
    expect(firstLines).toContain('npm install && npm start')
    expect(firstLines).toContain('npm install && npm test')
  })

  it('lists every config key as the schema defines it (run `bun scripts/config-reference.ts --write`)', () => {
    expect(readme).toBe(withReference(readme))
  })

  it('documents every CLI command', () => {
    for (const cmd of COMMANDS) expect(readme).toContain(`hearth ${cmd.name}`)
  })
})
