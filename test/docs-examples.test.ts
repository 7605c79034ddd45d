// The shell examples of README.md and docs/ are run, so a renamed route, option or field shows up
// here and not in a reader's terminal. `npm …` and `mosquitto_*` lines are left out: the first are
// the suite itself, the second need a device's password that the docs print as a placeholder.
import { describe, expect, it } from 'bun:test'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { parse } from '../src/cli/command.ts'
import { COMMANDS } from '../src/cli/index.ts'
import { createDevice } from '../src/devices/registry.ts'
import { createToken } from '../src/store/tokens.ts'
import { cli } from './helpers/cli.ts'
import { startTestHub, tempDir } from './helpers/hub.ts'

const ROOT = resolve(import.meta.dir, '..')
const FILES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
]

interface Block {
  file: string
  text: string
}

/** Every ```sh / ```bash / ```console block, continuation lines joined. */
function shellBlocks(): Block[] {
  return FILES.flatMap((file) =>
    [...readFileSync(join(ROOT, file), 'utf8').matchAll(/```(?:sh|bash|shell|console)\n([\s\S]*?)```/g)].map(
      (m) => ({ file, text: (m[1] ?? '').replace(/\\\n\s*/g, ' ') }),
    ),
  )
}

/** The command lines of a block: after `$ ` in a block with prompts (the rest is output), else every line. */
function commandLines(block: Block): string[] {
  const lines = block.text.split('\n')
  const prompted = lines.some((l) => l.startsWith('$ '))
  return lines
    .filter((l) => (prompted ? l.startsWith('$ ') : l.trim() && !l.trimStart().startsWith('#')))
    .map((l) => (prompted ? l.slice(2) : l).replace(/\s+#.*$/, '').trim())
}

/** Splits a command line the way sh would for these examples: spaces, single and double quotes. */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '')
}

const hearthLines = () =>
  shellBlocks().flatMap((b) =>
    commandLines(b)
      .filter((l) => /^(hearth|\.\/dist\/hearth)\b/.test(l))
      .map((line) => ({ file: b.file, line })),
  )

// Codes that mean the example itself is wrong: not JSON, not the schema, no such route, wrong
// method or content type. A 404 for a resource these examples did not create (outbox entry 17)
// or a 401 from a hook secret they do not know is the example working as documented.
const EXAMPLE_IS_WRONG = new Set([40001, 40002, 40003, 40402, 40501, 41501])

describe('README and docs command examples', () => {
  it('name only commands, subcommands and options the CLI has', () => {
    const lines = hearthLines()
    expect(lines.length).toBeGreaterThan(5)
    const problems = lines.flatMap(({ file, line }) => {
      const [, name, ...rest] = words(line)
      const cmd = COMMANDS.find((c) => c.name === name) ?? (name ? undefined : COMMANDS[0])
      if (!cmd) return [`${file}: ${line}: no command "${name}"`]
      try {
        const args = parse(cmd, rest)
        const sub = args.positionals[0]
        if (cmd.subcommands && (!sub || !cmd.subcommands.includes(sub))) {
          return [`${file}: ${line}: no subcommand "${sub}"`]
        }
      } catch (err) {
        return [`${file}: ${line}: ${(err as Error).message}`]
      }
      return []
    })
    expect(problems).toEqual([])
  })

  it('run: the hearth commands, in order, on one data dir per file', async () => {
    using dir = tempDir()
    const results: string[] = []
    for (const { file, line } of hearthLines()) {
      const env = { HEARTH_DATA_DIR: join(dir.path, file.replace(/\W/g, '-')) }
      const [, ...argv] = words(line)
      // The binary with no arguments serves, which is the serve test's business.
      if (argv.length === 0 || argv[0] === 'serve') continue
      const res = await cli(argv, { cwd: dir.path, env })
      results.push(`${file}: ${line} → ${res.code}${res.code ? ` ${res.err.trim()}` : ''}`)
    }
    expect(results.filter((r) => !r.endsWith('→ 0'))).toEqual([])
  })

  it('run: every curl example answers without an error that blames the request', async () => {
    // The sensor pipeline's rules (docs/rules.md tests gas-no2) on a hub with the examples' devices.
    const example = parseToml(readFileSync(join(ROOT, 'examples/sensor-pipeline.toml'), 'utf8'))
    await using t = await startTestHub({ rules: example.rules as unknown[] })
    const { secret } = createToken(t.hub.db, { name: 'docs', scope: 'admin' })
    const passwords: Record<string, string> = {}
    for (const id of ['lamp-1', 'lamp-2', 'pi-1', 'kims-phone']) {
      passwords[id] = (await createDevice(t.hub.db, { id })).credentials.password
    }
    using dir = tempDir()
    const blocks = shellBlocks().filter((b) => /(^|\s)curl\s/m.test(b.text))
    expect(blocks.length).toBeGreaterThan(8)
    const problems: string[] = []
    for (const [i, block] of blocks.entries()) {
      const script = block.text
        // The docs' hub address, whatever its port, is the test hub's (on port 0).
        .replace(/http:\/\/(localhost|hub):\d+/g, t.url)
        .replaceAll('hth_…', '$TOKEN')
        .replaceAll('kims-phone:<device password>', `kims-phone:${passwords['kims-phone']}`)
      const out = join(dir.path, `block-${i}`)
      // Each curl writes its status line and body where the test can read them, one file per call.
      const prelude = `set -u
n=0
curl() { n=$((n+1)); command curl -s -o "${out}.$n.body" -w '%{http_code}' "$@" > "${out}.$n.status"; }
`
      writeFileSync(`${out}.sh`, prelude + script)
      const proc = Bun.spawn(['bash', `${out}.sh`], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HUB: t.url,
          TOKEN: secret,
          API_TOKEN: secret,
          PASSWORD: passwords['pi-1'] ?? '',
          SECRET: 'not the secret',
          SLACK_SIGNING_SECRET: 'not the secret',
          STRIPE_WEBHOOK_SECRET: 'not the secret',
          T: '0',
          RAW_BODY: '{}',
        },
        stdout: 'pipe',
        stderr: 'pipe',
      })
      const [err, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited])
      if (code !== 0) problems.push(`${block.file} block ${i}: exit ${code} ${err}`)
      const calls = readdirSync(dir.path).filter((f) => f.startsWith(`block-${i}.`) && f.endsWith('.status'))
      if (calls.length === 0) problems.push(`${block.file} block ${i}: no curl ran`)
      for (const f of calls) {
        const status = Number(readFileSync(join(dir.path, f), 'utf8'))
        const bodyFile = join(dir.path, f.replace(/\.status$/, '.body'))
        // curl writes no body file for an empty answer (204).
        const body = existsSync(bodyFile) ? readFileSync(bodyFile, 'utf8') : ''
        const answer = (() => {
          try {
            return JSON.parse(body) as { code?: number }
          } catch {
            return {}
          }
        })()
        if (status >= 500 || status === 0 || EXAMPLE_IS_WRONG.has(answer.code ?? 0)) {
          problems.push(`${block.file} block ${i} call ${f}: ${status} ${body.slice(0, 300)}`)
        }
      }
    }
    expect(problems).toEqual([])
  })
})
