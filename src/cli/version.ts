import { VERSION } from '../version.ts'
import type { Command } from './command.ts'

export const version: Command = {
  name: 'version',
  summary: 'Print the version.',
  usage: '',
  options: {},
  async run(_args, io) {
    io.out(`hearth ${VERSION} (bun ${Bun.version})\n`)
    return 0
  },
}
