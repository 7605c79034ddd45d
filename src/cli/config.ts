import { resolve } from 'node:path'
import { type LoadedConfig, loadConfig } from '../config/load.ts'
import { type CliIo, CONFIG_OPTION, type Command, type ParsedArgs, str, UsageError } from './command.ts'

/** Loads the config the way every command does: `--config`, then env, then `./hearth.toml`. */
export function configFor(args: ParsedArgs, io: CliIo): LoadedConfig {
  const file = str(args, 'config')
  const loaded = loadConfig({ env: io.env, cwd: io.cwd, ...(file ? { file } : {}) })
  loaded.config.dataDir = resolve(io.cwd, loaded.config.dataDir)
  return loaded
}

/**
 * A command whose one option is `--config FILE`: its `run` gets `config()`, which loads the config
 * as `configFor` does, when the command needs it (and again on a reload).
 */
export function configCommand(
  c: Omit<Command, 'options' | 'usage' | 'run'> & {
    /** Defaults to `[--config FILE]`, all such a command takes. */
    usage?: string
    run(args: ParsedArgs, io: CliIo, config: () => LoadedConfig): Promise<number>
  },
): Command {
  const run: Command['run'] = (args, io) => c.run(args, io, () => configFor(args, io))
  return { ...c, usage: c.usage ?? '[--config FILE]', options: CONFIG_OPTION, run }
}

/**
 * A `configCommand` of one argument, a file: its `run` gets the file resolved against the working
 * directory; without one the command fails with `missing`.
 */
export function fileCommand(
  c: Omit<Command, 'options' | 'usage' | 'run'> & {
    missing: string
    run(file: string, io: CliIo, config: () => LoadedConfig): Promise<number>
  },
): Command {
  const { missing, run, ...command } = c
  return configCommand({
    ...command,
    usage: '<file> [--config FILE]',
    run: (args, io, config) => run(fileArgument(args, io, missing), io, config),
  })
}

/** The command's first argument, a file, resolved against the working directory; `missing` when absent. */
function fileArgument(args: ParsedArgs, io: CliIo, missing: string): string {
  const file = args.positionals[0]
  if (!file) throw new UsageError(missing)
  return resolve(io.cwd, file)
}
