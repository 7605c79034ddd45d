import { describe, expect, it } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { COMMANDS } from '../../src/cli/index.ts'
import { openStore } from '../../src/store/open.ts'
import { cli } from '../helpers/cli.ts'
import { tempDir } from '../helpers/hub.ts'
import { runHearth, runToEnd } from '../helpers/process.ts'

const ROOT = resolve(import.meta.dir, '../..')
const MAIN = join(ROOT, 'src/main.ts')
/** What a progress line starts with: back to column 0, erase the line. */
const REDRAW = '\r\u001b[2K'

const run = (cmd: string[], env: Record<string, string> = {}) =>
  runToEnd(cmd, { cwd: ROOT, env: { ...process.env, ...env } })

/** A data dir whose database holds enough rows that a backup has something to copy. */
function seededDataDir(dir: string): string {
  const dataDir = join(dir, 'data')
  const { db } = openStore(dataDir)
  db.run('CREATE TABLE filler (x TEXT)')
  const insert = db.prepare('INSERT INTO filler VALUES (?)')
  db.transaction(() => {
    for (let i = 0; i < 2000; i++) insert.run('x'.repeat(1000))
  })()
  db.close()
  return dataDir
}

describe('hearth --help', () => {
  it('gives every option of every command one line with a description', async () => {
    using dir = tempDir()
    for (const cmd of COMMANDS) {
      const { code, out } = await cli([cmd.name, '--help'], { cwd: dir.path })
      expect(code).toBe(0)
      const options = out
        .slice(out.indexOf('\nOptions:\n') + '\nOptions:\n'.length)
        .trimEnd()
        .split('\n')
      const names = [...Object.keys(cmd.options), 'help']
      expect(options.length).toBe(names.length)
      for (const [i, name] of names.entries()) {
        const line = options[i] ?? ''
        // `  -c, --config <file>   what it is`: flags, at least two spaces, then words.
        expect(line).toMatch(
          new RegExp(`^  (-\\w, )?\\s*--${name}\\b[^ ]*( <\\w+>)?( \\.\\.\\.)?\\s{2,}\\S.{8,}$`),
        )
      }
    }
  })
})

describe('hearth completion', () => {
  it('prints a bash script that completes commands, subcommands, options and their values', async () => {
    using dir = tempDir()
    const { code, out } = await cli(['completion', 'bash'], { cwd: dir.path })
    expect(code).toBe(0)
    const script = join(dir.path, 'hearth.bash')
    writeFileSync(script, out)
    // Each case: the words typed so far, the last being completed; prints what bash would offer.
    const cases: string[][] = [
      ['hearth', 'tok'],
      ['hearth', 'device', 're'],
      ['hearth', 'token', 'create', '--scope', 'ad'],
      ['hearth', 'device', 'allow', 'lamp', 'a/#', '--access', 'read'],
      ['hearth', 'completion', ''],
      ['hearth', 'user', 'add', 'bob', '--r'],
      ...COMMANDS.map((c) => ['hearth', c.name, '--']),
    ]
    const calls = cases.map(
      (words) =>
        `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _hearth; echo "\${COMPREPLY[*]}"`,
    )
    const res = await run([
      'bash',
      '--norc',
      '-c',
      `source '${script}'\n${calls.join('\n')}\ncomplete -p hearth`,
    ])
    expect(res.err).toBe('')
    const lines = res.out.trimEnd().split('\n')
    expect(lines.slice(0, 6)).toEqual([
      'token',
      'rename remove',
      'admin',
      'read readwrite',
      'bash zsh',
      '--role',
    ])
    COMMANDS.forEach((c, i) => {
      expect(lines[6 + i]).toBe([...Object.keys(c.options), 'help'].map((o) => `--${o}`).join(' '))
    })
    expect(lines.at(-1)).toBe('complete -o default -F _hearth hearth')
  })

  it('prints a zsh script that completes commands, subcommands, options and their values', async () => {
    using dir = tempDir()
    const { code, out } = await cli(['completion', 'zsh'], { cwd: dir.path })
    expect(code).toBe(0)
    expect(out.split('\n')[0]).toBe('#compdef hearth')
    const script = join(dir.path, '_hearth')
    writeFileSync(script, out)
    expect(await run(['zsh', '-n', script])).toEqual({ out: '', err: '', code: 0 })
    // An interactive zsh on a pseudo-terminal (zsh/zpty): type each line, press TAB, wait for the
    // completed word to be echoed, clear the line (^U), go on. Each wait ends when its text shows.
    const driver = join(dir.path, 'drive.zsh')
    writeFileSync(
      driver,
      `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "autoload -U compinit; compinit -u -d '${dir.path}/zcompdump'; source '${script}'; PS1='>'; print READY"
zpty -r -m z out '*READY*'
for typed expected in "$@"; do
  zpty -w -n z "$typed"$'\\t'
  zpty -r -m z out "*$expected*" && print -r -- "completed $expected"
  zpty -w -n z $'\\x15'
done
zpty -d z
`,
    )
    const cases = [
      ['hearth tok', 'token'],
      ['hearth device rem', 'remove'],
      ['hearth token create --scope ad', 'admin'],
      ['hearth user add bob --role v', 'viewer'],
      ['hearth device allow lamp x --acc', '--access'],
      ['hearth completion z', 'zsh'],
    ]
    const proc = Bun.spawn(['zsh', '-f', driver, ...cases.flat()], {
      stdout: 'pipe',
      stderr: 'pipe',
      timeout: 20_000,
    })
    const [stdout, exit] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
    expect(stdout.trim().split('\n')).toEqual(cases.map(([, expected]) => `completed ${expected}`))
    expect(exit).toBe(0)
  })

  it('refuses a shell it does not know as a usage error', async () => {
    using dir = tempDir()
    const res = await cli(['completion', 'fish'], { cwd: dir.path })
    expect(res.code).toBe(2)
    expect(res.err).toContain('no completion for "fish"')
  })
})

describe('backup and restore progress', () => {
  it('draws progress on a terminal and stays quiet when stderr is not one', async () => {
    using dir = tempDir()
    const dataDir = seededDataDir(dir.path)
    const env = { HEARTH_DATA_DIR: dataDir, HEARTH_LOG_LEVEL: 'silent' }
    const quiet = await runHearth(['backup', join(dir.path, 'quiet.db')], env)
    expect(quiet).toEqual({ out: `backup written to ${join(dir.path, 'quiet.db')}\n`, err: '', code: 0 })

    // script(1) gives the command a pseudo-terminal for stdout and stderr alike.
    const command = `'${process.execPath}' '${MAIN}' backup '${join(dir.path, 'tty.db')}'`
    const tty = await run(['script', '-qefc', command, '/dev/null'], env)
    expect(tty.code).toBe(0)
    const frames = tty.out.split(REDRAW)
    expect(frames[1]).toMatch(/^backup {2}0% \([\d.]+ MiB of [\d.]+ MiB\)$/)
    expect(frames.at(-1)).toMatch(/^backup 100% \([\d.]+ MiB\)\r?\nbackup written to /)
  })

  it('shows restore progress to a terminal only', async () => {
    using dir = tempDir()
    const dataDir = seededDataDir(dir.path)
    const env = { HEARTH_DATA_DIR: dataDir }
    expect((await cli(['backup', 'snap.db'], { cwd: dir.path, env })).code).toBe(0)
    const quiet = await cli(['restore', 'snap.db'], { cwd: dir.path, env })
    expect(quiet.code).toBe(0)
    expect(quiet.err).toBe('')
    const shown = await cli(['restore', 'snap.db'], { cwd: dir.path, env, errIsTTY: true })
    expect(shown.code).toBe(0)
    const frames = shown.err.split(REDRAW)
    expect(frames[0]).toBe('')
    expect(frames[1]).toMatch(/^restore {2}0% \(0\.0 MiB of [\d.]+ MiB\)$/)
    expect(frames.at(-1)).toMatch(/^restore 100% \([\d.]+ MiB\)\n$/)
  })
})
