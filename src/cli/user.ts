import type { Database } from 'bun:sqlite'
import { createUserService, type UserService } from '../accounts/user-service.ts'
import { forgetInitialAdminPassword } from '../store/initial-admin.ts'
import { openStore } from '../store/open.ts'
import { randomSecret } from '../store/tokens.ts'
import { listUsers } from '../store/users.ts'
import { type CliIo, CONFIG_OPTION, type Command, type ParsedArgs, str, UsageError } from './command.ts'
import { configFor } from './config.ts'
import { eventLogBus } from './events.ts'
import { printList } from './list.ts'

const ROLES = ['admin', 'viewer'] as const
const MIN_PASSWORD = 8

const SUBCOMMANDS = `
Subcommands:
  add <name> [--role admin|viewer] [--password-stdin]   password read from stdin, or generated and shown once
  passwd <name> [--password-stdin]                      new password; ends the user's sessions
  remove <name>                                         never the last admin
  list [--json]`

/** `hearth user …`: console users. Works next to a running hub (SQLite WAL). */
export const user: Command = {
  name: 'user',
  summary: 'Manage console users: add, passwd, remove, list.',
  usage: `<add|passwd|remove|list> [<name>] [options]\n${SUBCOMMANDS}`,
  subcommands: ['add', 'passwd', 'remove', 'list'],
  options: {
    ...CONFIG_OPTION,
    role: {
      type: 'string',
      value: 'ROLE',
      choices: ROLES,
      description: 'what the user may do (add; default viewer)',
    },
    'password-stdin': {
      type: 'boolean',
      description: 'read the password from standard input instead of generating one (add, passwd)',
    },
    json: { type: 'boolean', description: 'print JSON instead of text (list)' },
  },
  async run(args, io) {
    const [sub, name] = args.positionals
    if (!sub) throw new UsageError('which user subcommand?')
    const needName = () => {
      if (!name) throw new UsageError(`user ${sub} needs a user name`)
      return name
    }
    if (sub !== 'add' && sub !== 'passwd' && sub !== 'remove' && sub !== 'list') {
      throw new UsageError(`unknown user subcommand "${sub}"`)
    }
    const role = str(args, 'role') ?? 'viewer'
    if (!(ROLES as readonly string[]).includes(role))
      throw new UsageError(`--role must be one of ${ROLES.join(', ')}`)
    // Read stdin before opening the store, so a bad password leaves the database untouched.
    const given = args.values['password-stdin'] ? await passwordFromStdin(io) : undefined
    const { config } = configFor(args, io)
    const store = openStore(config.dataDir)
    try {
      const db = store.db
      let forgotten = false
      const users = createUserService({
        db,
        bus: eventLogBus(db),
        onPasswordChanged: (username) => {
          forgotten = forgetInitialAdminPassword(config.dataDir, username)
        },
      })
      switch (sub) {
        case 'add':
          return await add(users, io, needName(), role, given)
        case 'passwd': {
          const code = await passwd(users, io, needName(), given)
          if (forgotten) io.out('the first-start password file is removed: it no longer holds the password\n')
          return code
        }
        case 'remove':
          return remove(users, io, needName())
        case 'list':
          return list(db, io, args)
      }
    } finally {
      store.db.close()
    }
  },
}

async function passwordFromStdin(io: CliIo): Promise<string> {
  if (!io.readStdin) throw new UsageError('--password-stdin: no standard input here')
  // `echo pw | hearth …` adds one newline that is not part of the password.
  const password = (await io.readStdin()).replace(/\r?\n$/, '')
  if (password.length < MIN_PASSWORD) {
    throw new UsageError(`the password from stdin must have at least ${MIN_PASSWORD} characters`)
  }
  return password
}

async function add(
  users: UserService,
  io: CliIo,
  name: string,
  role: string,
  given?: string,
): Promise<number> {
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(name))
    throw new UsageError('user names use letters, digits and . _ @ -')
  const { password } = await users.create({ username: name, password: given, role })
  io.out(
    given
      ? `user "${name}" (${role}) added\n`
      : `user "${name}" (${role}) added. The password is shown only now:\n  ${password}\n`,
  )
  return 0
}

async function passwd(users: UserService, io: CliIo, name: string, given?: string): Promise<number> {
  const password = given ?? randomSecret(18)
  const changed = await users.update(name, { password })
  if (!changed) return notFound(io, name)
  io.out(
    `password of "${name}" changed; ${changed.sessionsEnded} session(s) ended` +
      (given ? '\n' : `. The new password is shown only now:\n  ${password}\n`),
  )
  return 0
}

function remove(users: UserService, io: CliIo, name: string): number {
  if (!users.remove(name)) return notFound(io, name)
  io.out(`user "${name}" removed\n`)
  return 0
}

function list(db: Database, io: CliIo, args: ParsedArgs): number {
  return printList(io, args, listUsers(db), (users) => {
    const width = Math.max(4, ...users.map((u) => u.username.length))
    return (
      `${'NAME'.padEnd(width)}  ROLE    CREATED\n` +
      users
        .map(
          (u) => `${u.username.padEnd(width)}  ${u.role.padEnd(6)}  ${new Date(u.createdAt).toISOString()}\n`,
        )
        .join('')
    )
  })
}

function notFound(io: CliIo, name: string): number {
  io.err(`hearth: no user "${name}"\n`)
  return 1
}
