import { describe, expect, it } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { loadConfig } from '../../src/config/load.ts'
import { instantOf } from '../../src/jobs/timing.ts'
import { tempDir } from '../helpers/hub.ts'

const doc = readFileSync(resolve(import.meta.dir, '../../docs/schedules.md'), 'utf8')
const examples = [...doc.matchAll(/```toml\n([\s\S]*?)```/g)].map((m) => m[1]!)

describe('docs/schedules.md', () => {
  it('has TOML examples that are valid config files', () => {
    using dir = tempDir()
    expect(examples.length).toBeGreaterThanOrEqual(3)
    const ids = examples.flatMap((text, i) => {
      const file = join(dir.path, `example-${i}.toml`)
      writeFileSync(file, text)
      return loadConfig({ file, env: {}, cwd: dir.path }).config.schedules.map((s) => s.id)
    })
    expect(ids).toEqual(['save-location', 'path-daily', 'heater-off', 'weather'])
  })

  it('reads a bare TOML date-time as a local time in the schedule zone', () => {
    using dir = tempDir()
    const file = join(dir.path, 'once.toml')
    writeFileSync(file, examples.find((e) => e.includes('heater-off'))!)
    const [once] = loadConfig({ file, env: {}, cwd: dir.path }).config.schedules
    expect(once).toMatchObject({ kind: 'once', at: '2025-12-24T23:30:00' })
    expect(new Date(instantOf('2025-12-24T23:30:00', 'Europe/Berlin')).toISOString()).toBe(
      '2025-12-24T22:30:00.000Z',
    )
  })
})
