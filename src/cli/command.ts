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
  /** All of standard input (`--password-stdin`); absent when the caller has none to give. */
  readStdin?(): Promise<string>
  /** How the process was started (hints' command form, the binary a service runs); `hearth` when absent. */
  invocation?: Invocation
}

export type Options = NonNullable<ParseArgsConfig['options']>

export interface Command {
  name: string
  summary: string
  /** Usage line after `hearth <name>`. */
  usage: string
  options: Options
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

export const CONFIG_OPTION: Options = { config: { type: 'string', short: 'c' } }

export function parse(cmd: Command, argv: string[]): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    })
    return { values: values as ParsedArgs['values'], positionals }
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

export function helpText(cmd: Command, form = 'hearth'): string {
  const opts = Object.entries(cmd.options)
    .map(
      ([name, o]) => `  --${name}${o.short ? `, -${o.short}` : ''}${o.type === 'string' ? ' <value>' : ''}`,
    )
    .join('\n')
  return `${form} ${cmd.name} ${cmd.usage}\n\n${cmd.summary}\n${opts ? `\nOptions:\n${opts}\n` : ''}  --help, -h\n`
}

/** The string value of an option, or undefined. */
export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name]
  return typeof v === 'string' ? v : undefined
}
