import { type ParseArgsConfig, parseArgs } from 'node:util'
import type { Invocation } from './invocation.ts'
import type { OnReload } from './signals.ts'

/** What a command may touch of the outside world; `main.ts` passes the real process parts. */
export interface CliIo {
  out(text: string): void
  err(text: string): void
  env: Record<string, string | undefined>
  cwd: string
  /** Resolves when the process is asked to stop (first SIGINT/SIGTERM); carries the signal name. */
  stopRequested: Promise<string>
  /** Subscribes to reload requests (SIGHUP); absent where nothing asks for reloads. */
  onReload?: OnReload
  isTTY: boolean
  /** Whether stderr is a terminal: progress (backup, restore) is drawn there only then. */
  errIsTTY?: boolean
  /** All of standard input (`--password-stdin`); absent when the caller has none to give. */
  readStdin?(): Promise<string>
  /** How the process was started (hints' command form, the binary a service runs); `hearth` when absent. */
  invocation?: Invocation
}

/** One `--option`: what `parseArgs` needs, and what `--help` and the completion scripts show. */
export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  multiple?: boolean
  /** One line for `--help`. */
  description: string
  /** The value's placeholder in `--help` (`FILE`, `NAME`); a `FILE` completes file names. */
  value?: string
  /** The values a string option accepts, offered by shell completion. */
  choices?: readonly string[]
}

export type Options = Record<string, OptionSpec>

export interface Command {
  name: string
  summary: string
  /** Usage line after `hearth <name>`. */
  usage: string
  options: Options
  /** Words that may follow the command (`device add`, `completion bash`), for shell completion. */
  subcommands?: readonly string[]
  /** Returns the process exit code. */
  run(args: ParsedArgs, io: CliIo): Promise<number>
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>
  positionals: string[]
}

/** A command-line mistake: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

export const CONFIG_OPTION: Options = {
  config: {
    type: 'string',
    short: 'c',
    value: 'FILE',
    description:
      'config file (default: $HEARTH_CONFIG, else ./hearth.toml if present, else built-in defaults)',
  },
}

/** `--help`, which every command takes. */
export const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help and exit' }

export function parse(cmd: Command, argv: string[]): ParsedArgs {
  try {
    const options: NonNullable<ParseArgsConfig['options']> = {}
    for (const [name, o] of Object.entries({ ...cmd.options, help: HELP_OPTION })) {
      options[name] = {
        type: o.type,
        ...(o.short ? { short: o.short } : {}),
        ...(o.multiple ? { multiple: true } : {}),
      }
    }
    const { values, positionals } = parseArgs({
      args: argv,
      options,
      allowPositionals: true,
      strict: true,
    })
    return { values: values as ParsedArgs['values'], positionals }
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

/** `hearth <cmd> --help`: usage, summary and one line per option, descriptions aligned. */
export function helpText(cmd: Command, form = 'hearth'): string {
  const rows = Object.entries({ ...cmd.options, help: HELP_OPTION }).map(([name, o]) => {
    const value = o.type === 'string' ? ` <${(o.value ?? name).toLowerCase()}>` : ''
    const flags = `${o.short ? `-${o.short}, ` : '    '}--${name}${value}${o.multiple ? ' ...' : ''}`
    const choices = o.choices ? `; one of ${o.choices.join(', ')}` : ''
    return [flags, `${o.description}${choices}`] as const
  })
  const width = Math.max(...rows.map(([flags]) => flags.length))
  const lines = rows.map(([flags, text]) => `  ${flags.padEnd(width)}  ${text}`)
  return `${form} ${cmd.name} ${cmd.usage}\n\n${cmd.summary}\n\nOptions:\n${lines.join('\n')}\n`
}

/** The string value of an option, or undefined. */
export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name]
  return typeof v === 'string' ? v : undefined
}
