import { maskedConfig } from '../config/load.ts'
import { CONFIG_OPTION, type Command } from './command.ts'
import { configFor } from './config.ts'

export const checkConfig: Command = {
  name: 'check-config',
  summary: 'Validate the configuration (file + environment) and print the effective values, secrets masked.',
  usage: '[--config FILE]',
  options: CONFIG_OPTION,
  async run(args, io) {
    const { config, file } = configFor(args, io)
    io.out(
      `# ${file ? `config file: ${file}` : 'no config file: embedded defaults'} (+ HEARTH_* environment)\n`,
    )
    io.out(`${JSON.stringify(maskedConfig(config), null, 2)}\n`)
    return 0
  },
}
