import { existsSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { configTemplate } from '../config/template.ts'
import { type Command, str } from './command.ts'

export const init: Command = {
  name: 'init',
  summary: 'Write a commented hearth.toml listing every key and its default.',
  usage: '[--config FILE] [--force]',
  options: { config: { type: 'string', short: 'c' }, force: { type: 'boolean' } },
  async run(args, io) {
    const file = resolve(io.cwd, str(args, 'config') ?? 'hearth.toml')
    if (existsSync(file) && !args.values.force) {
      io.err(`hearth: ${file} already exists (use --force to overwrite)\n`)
      return 1
    }
    writeFileSync(file, configTemplate())
    io.out(`wrote ${file}\n`)
    return 0
  },
}
