import { afterAll, expect, it } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test as nodeTest, type TestContext } from 'node:test'
import { createSqlitePersistence } from '../../src/broker/persistence/sqlite-persistence.ts'
import { createLogger } from '../../src/log.ts'
import { migrate } from '../../src/store/migrate.ts'
import { openDatabase } from '../../src/store/open.ts'

// The upstream conformance suite of every Aedes persistence (issue 3 point 2). It is written for
// node:test, which bun test runs; each of its tests gets a fresh database file.
const require = createRequire(import.meta.url)
const suitePath = require.resolve('aedes-persistence/abstract.js')
const abstractPersistence = require(suitePath) as (opts: {
  test: (name: string, fn: (t: TestContext) => Promise<void>) => unknown
  persistence: () => unknown
  testAsync: boolean
}) => void

// What abstract.js defines, counted from its source, so a suite that silently registered fewer
// tests (or a runner that skipped some) cannot pass.
const defined = readFileSync(suitePath, 'utf8').match(/^\s*test\(/gm)?.length ?? 0
const registered: string[] = []
const passed = new Set<string>()
const dirs: string[] = []
const log = createLogger({ level: 'silent' })

function persistence() {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-abstract-'))
  dirs.push(dir)
  const db = openDatabase(join(dir, 'hearth.db'))
  migrate(db)
  const p = createSqlitePersistence({ db, log })
  const destroy = p.destroy
  // The suite ends each test with destroy(); the database is ours to close.
  return Object.assign(p, {
    async destroy() {
      await destroy()
      db.close()
    },
  })
}

abstractPersistence({
  test(name, fn) {
    registered.push(name)
    return nodeTest(name, async (t) => {
      await fn(t)
      passed.add(name)
    })
  },
  persistence,
  testAsync: true,
})

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

it('runs and passes every test the upstream abstract suite defines', () => {
  expect(defined).toBeGreaterThan(40)
  expect(registered.length).toBe(defined)
  expect(registered.filter((name) => !passed.has(name))).toEqual([])
  expect(passed.size).toBe(defined)
})
