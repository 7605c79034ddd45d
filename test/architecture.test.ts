import { describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import {
  describeCycles,
  describeImports,
  importEdges,
  importsOutside,
  layerCycles,
  readSources,
  type SourceFile,
  specifiersOf,
  upwardImports,
} from './helpers/import-graph.ts'

// Folders are layers and imports point down: the domain folders (and the action catalog above
// the bridges) never reach up into the HTTP adapter or the composition root.
const DOMAINS = [
  'accounts',
  'catalog',
  'homeassistant',
  'mqtt',
  'broker',
  'devices',
  'bridges',
  'hooks',
  'jobs',
  'rules',
  'store',
  'telemetry',
  'outbox',
  'actions',
]
const ABOVE_DOMAINS = ['http', 'compose']
// The protocol engine knows MQTT only: the hub's policy plugs in through its hooks.
const MQTT_MAY_IMPORT = ['util']

const failures = (files: readonly SourceFile[]) => {
  const edges = importEdges(files)
  const upward = upwardImports(edges, DOMAINS, ABOVE_DOMAINS)
  const engine = importsOutside(edges, 'mqtt', MQTT_MAY_IMPORT)
  const cycles = layerCycles(edges)
  return { upward, engine, cycles }
}

describe('the layers of src/', () => {
  const found = failures(readSources(join(import.meta.dir, '..', 'src')))

  it('has no domain folder importing http/ or compose/', () => {
    if (found.upward.length)
      throw new Error(`domain files import the layers above them:\n${describeImports(found.upward)}`)
    expect(found.upward).toEqual([])
  })

  it('has the MQTT engine import nothing of the hub but util/', () => {
    if (found.engine.length)
      throw new Error(`src/mqtt imports outside itself and util/:\n${describeImports(found.engine)}`)
    expect(found.engine).toEqual([])
  })

  it('has no import cycle between top-level folders (root files count as their own)', () => {
    if (found.cycles.length)
      throw new Error(`top-level folders import in a cycle:\n${describeCycles(found.cycles)}`)
    expect(found.cycles).toEqual([])
  })
})

describe('the import scanner', () => {
  it('reads static, type, re-export, side-effect and dynamic imports, and skips comments', () => {
    const text = [
      "import { a,\n  b } from './a.ts'",
      "import type { T } from '../t.ts'",
      "export * from './star.ts'",
      "export { c } from './c.ts'",
      "import './side.ts'",
      "const lazy = () => import('./lazy.ts')",
      "// import { gone } from './commented.ts'",
      "const url = 'http://example.com' // from './trailing.ts'",
    ].join('\n')
    expect(specifiersOf(text).sort()).toEqual([
      '../t.ts',
      './a.ts',
      './c.ts',
      './lazy.ts',
      './side.ts',
      './star.ts',
    ])
  })

  it('finds a planted upward import, an engine import and a folder cycle', () => {
    const planted: SourceFile[] = [
      { path: 'devices/registry.ts', text: "import type { App } from '../http/app.ts'" },
      { path: 'mqtt/engine.ts', text: "import { log } from '../log.ts'\nimport { x } from '../util/x.ts'" },
      { path: 'rules/engine.ts', text: "import { run } from '../jobs/run.ts'" },
      { path: 'jobs/run.ts', text: "export const run = async () => (await import('../rules/engine.ts')).x" },
      { path: 'util/x.ts', text: 'export const x = 1' },
    ]
    const found = failures(planted)
    expect(found.upward.map((e) => `${e.file} -> ${e.target}`)).toEqual([
      'devices/registry.ts -> http/app.ts',
    ])
    expect(found.engine.map((e) => `${e.file} -> ${e.target}`)).toEqual(['mqtt/engine.ts -> log.ts'])
    expect(found.cycles.map((c) => c.path)).toEqual([['jobs', 'rules', 'jobs']])
    expect(describeCycles(found.cycles)).toBe(
      'cycle of 2 layers (jobs, rules): jobs -> rules -> jobs\n' +
        '  jobs -> rules: src/jobs/run.ts\n' +
        '  rules -> jobs: src/rules/engine.ts',
    )
  })
})
