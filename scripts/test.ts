// `npm test`: prerequisites, lint, typecheck, then the whole bun test suite with a JUnit report
// (read by .ci/run). Extra arguments go to `bun test` (e.g. a path filter).
import { mkdirSync } from 'node:fs'
import { delimiter, resolve } from 'node:path'
import { ensurePrereqs, ensurePromtool, TEST_PREREQS } from './prereqs.ts'

const write = (s: string) => process.stderr.write(s)
// Works when run directly too, not only under npm (which puts node_modules/.bin on PATH).
const env = { ...process.env, PATH: `${resolve('node_modules/.bin')}${delimiter}${process.env.PATH ?? ''}` }
const args = process.argv.slice(2)

const problem = ensurePrereqs(TEST_PREREQS, write) ?? ensurePromtool(write)
if (problem) {
  write(`test prerequisites: ${problem}\n`)
  process.exit(1)
}

function step(name: string, cmd: string[]): boolean {
  write(`\n== ${name}: ${cmd.join(' ')}\n`)
  const res = Bun.spawnSync(cmd, { stdout: 'inherit', stderr: 'inherit', env })
  if (res.exitCode !== 0) write(`== ${name} failed (exit ${res.exitCode})\n`)
  return res.exitCode === 0
}

const lint = step('lint', ['biome', 'check', '.'])
const types = step('typecheck', ['tsc', '--noEmit', '-p', '.'])
mkdirSync('.ci/out', { recursive: true })
const tests = step('test', [
  'bun',
  'test',
  // Tests that start hubs and processes need more than bun's 5 s default (bunfig cannot set it).
  '--timeout=30000',
  '--reporter=junit',
  '--reporter-outfile=.ci/out/junit.xml',
  ...args,
])
process.exit(lint && types && tests ? 0 : 1)
