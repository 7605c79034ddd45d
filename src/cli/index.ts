import { backup, restore } from './backup.ts'
import { checkConfig } from './check-config.ts'
import type { Command } from './command.ts'
import { completionCommand } from './completion.ts'
import { device } from './device.ts'
import { init } from './init.ts'
import { reload } from './reload.ts'
import { serve } from './serve.ts'
import { service } from './service.ts'
import { token } from './token.ts'
import { user } from './user.ts'
import { version } from './version.ts'

/** Every `hearth <command>`; the first is the default. */
export const COMMANDS: readonly Command[] = [
  serve,
  init,
  checkConfig,
  reload,
  device,
  user,
  token,
  backup,
  restore,
  service,
  version,
  completionCommand(() => COMMANDS),
]
