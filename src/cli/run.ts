import { ConfigError } from '../config/load.ts'
import { type CliIo, type Command, helpText, parse, UsageError } from './command.ts'
import { COMMANDS } from './index.ts'
import { commandForm } from './invocation.ts'

function usage(commands: readonly Command[], form: string): string {
  const width = Math.max(...commands.map((c) => c.name.length))
  return `usage: ${form} <command> [options]\n\n${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}\n\n${form} <command> --help shows a command's options. With no command, hearth serves.\n`
}

/** Runs one command line; returns the exit code. Everything outside comes through `io`. */
export async function runCli(
  argv: string[],
  io: CliIo,
  commands: readonly Command[] = COMMANDS,
): Promise<number> {
  const [first, ...rest] = argv
  if (first === '--help' || first === '-h' || first === 'help') {
    io.out(usage(commands, commandForm(io)))
    return 0
  }
  if (first === '--version') return runCli(['version'], io, commands)
  const named = first && !first.startsWith('-') ? commands.find((c) => c.name === first) : undefined
  if (first && !first.startsWith('-') && !named) {
    io.err(`hearth: unknown command "${first}"\n\n${usage(commands, commandForm(io))}`)
    return 2
  }
  const cmd = named ?? commands[0]!
  const args = named ? rest : argv
  try {
    const parsed = parse(cmd, args)
    if (parsed.values.help) {
      io.out(helpText(cmd, commandForm(io)))
      return 0
    }
    return await cmd.run(parsed, io)
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`hearth ${cmd.name}: ${err.message}\n\n${helpText(cmd, commandForm(io))}`)
      return 2
    }
    if (err instanceof ConfigError) {
      io.err(`hearth: ${err.message}\n`)
      return 1
    }
    io.err(`hearth ${cmd.name}: ${(err as Error)?.message ?? err}\n`)
    return 1
  }
}
