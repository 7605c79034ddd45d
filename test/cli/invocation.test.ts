import { describe, expect, it } from 'bun:test'
import { dirname, join, resolve } from 'node:path'
import { describeInvocation, type ProcessFacts, SOURCE_COMMAND } from '../../src/cli/invocation.ts'
import { ensureBinary } from '../helpers/binary.ts'
import { tempDir } from '../helpers/hub.ts'

const ROOT = resolve(import.meta.dir, '../..')

function facts(over: Partial<ProcessFacts>): ProcessFacts {
  return {
    main: '/$bunfs/root/hearth',
    execPath: '/usr/local/bin/hearth',
    argv0: 'hearth',
    which: () => undefined,
    realpath: (p) => p,
    ...over,
  }
}

/** Runs a command line with a clean environment and PATH; its stdout. */
function run(argv: string[], opts: { cwd: string; path?: string }): string {
  const res = Bun.spawnSync(argv, {
    cwd: opts.cwd,
    env: {
      PATH: opts.path ?? process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      HEARTH_DATA_DIR: join(opts.cwd, 'data'),
      HEARTH_LOG_LEVEL: 'silent',
    },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  if (res.exitCode !== 0) throw new Error(`${argv.join(' ')} exited ${res.exitCode}: ${res.stderr}`)
  return res.stdout.toString()
}

describe('the command form in hints', () => {
  it('is the bare name for a binary found on PATH, the typed path otherwise, and npm run for sources', () => {
    expect(describeInvocation(facts({}))).toEqual({ command: 'hearth', binary: '/usr/local/bin/hearth' })
    expect(describeInvocation(facts({ argv0: './dist/hearth', execPath: '/src/dist/hearth' }))).toEqual({
      command: './dist/hearth',
      binary: '/src/dist/hearth',
    })
    const onPath = facts({ argv0: '/usr/local/bin/hearth', which: () => '/usr/local/bin/hearth' })
    expect(describeInvocation(onPath).command).toBe('hearth')
    const source = facts({ main: '/src/src/main.ts', execPath: '/src/node_modules/bun/bin/bun.exe' })
    expect(describeInvocation(source)).toEqual({ command: SOURCE_COMMAND })
  })

  it('works as printed, in each of the three ways Hearth is started', () => {
    using dir = tempDir()
    const binary = ensureBinary()
    // A compiled binary on PATH, typed bare.
    expect(
      run(['hearth', 'device', 'list'], { cwd: dir.path, path: `${dirname(binary)}:/usr/bin:/bin` }),
    ).toBe('no devices yet (hearth device add <id>)\n')
    // The same binary by path.
    expect(run([binary, 'device', 'list'], { cwd: dir.path })).toBe(
      `no devices yet (${binary} device add <id>)\n`,
    )
    // A source checkout: npm's script, which runs where package.json is.
    const out = run(['npm', 'run', '--silent', 'hearth', '--', 'device', 'list'], { cwd: ROOT })
    expect(out).toBe('no devices yet (npm run hearth -- device add <id>)\n')
  })
})
