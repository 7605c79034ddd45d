import { maskedConfig } from '../config/load.ts'
import { configCommand } from './config.ts'

export const checkConfig = configCommand({
  name: 'check-config',
  summary: 'Validate the configuration (file + environment) and print the effective values, secrets masked.',
  async run(_args, io, loadConfig) {
    const { config, file } = loadConfig()
    io.out(
      `# ${file ? `config file: ${file}` : 'no config file: embedded defaults'} (+ HEARTH_* environment)\n`,
    )
    io.out(`${JSON.stringify(maskedConfig(config), null, 2)}\n`)
    return 0
  },
})
