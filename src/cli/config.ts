import { resolve } from 'node:path'
import { type LoadedConfig, loadConfig } from '../config/load.ts'
import { type CliIo, type ParsedArgs, str } from './command.ts'

/** Loads the config the way every command does: `--config`, then env, then `./hearth.toml`. */
export function configFor(args: ParsedArgs, io: CliIo): LoadedConfig {
  const file = str(args, 'config')
  const loaded = loadConfig({ env: io.env, cwd: io.cwd, ...(file ? { file } : {}) })
  loaded.config.dataDir = resolve(io.cwd, loaded.config.dataDir)
  return loaded
}
