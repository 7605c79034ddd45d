import type { Database } from 'bun:sqlite'
import type { EventMap, EventType } from '../protocol.ts'
import { insertEvent } from '../store/events.ts'
import { forgetInitialAdminPassword } from '../store/initial-admin.ts'
import { openStore } from '../store/open.ts'
import { deleteUserSessions } from '../store/sessions.ts'
import { randomSecret } from '../store/tokens.ts'
import { countAdmins, createUser, deleteUser, findUser, listUsers, setPassword } from '../store/users.ts'
import { type CliIo, CONFIG_OPTION, type Command, type ParsedArgs, str, UsageError } from './command.ts'
import { configFor } from './config.ts'

const ROLES = ['admin', 'viewer'] as const
const MIN_PASSWORD = 8

const SUBCOMMANDS = `
Subcommands:
  add <name> [--role admin|viewer] [--password-stdin]   password read from stdin, or generated and shown once
  passwd <name> [--password-stdin]                      new password; ends the user's sessions
  remove <name>                                         never the last admin
  list [--json]`

/** `hearth user …` (issue 4 point 2): console users. Works next to a running hub (SQLite WAL). */
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
      switch (sub) {
        case 'add':
          return await add(db, io, needName(), role, given)
        case 'passwd': {
          const code = await passwd(db, io, needName(), given)
          if (code === 0 && forgetInitialAdminPassword(config.dataDir, needName()))
            io.out('the first-start password file is removed: it no longer holds the password\n')
          return code
        }
        case 'remove':
          return remove(db, io, needName())
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

/** Records what the CLI did in the hub's event log, so the console's history is complete. */
function record<K extends EventType>(db: Database, type: K, detail: EventMap[K], subject: string) {
  insertEvent(db, { type, detail, subject, ts: Date.now() } as Parameters<typeof insertEvent>[1])
}

async function add(db: Database, io: CliIo, name: string, role: string, given?: string): Promise<number> {
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(name))
    throw new UsageError('user names use letters, digits and . _ @ -')
  if (findUser(db, name)) {
    io.err(`hearth: user "${name}" already exists\n`)
    return 1
  }
  const password = given ?? randomSecret(18)
  await createUser(db, name, password, role)
  record(db, 'user.created', { username: name, role }, name)
  io.out(
    given
      ? `user "${name}" (${role}) added\n`
      : `user "${name}" (${role}) added. The password is shown only now:\n  ${password}\n`,
  )
  return 0
}

async function passwd(db: Database, io: CliIo, name: string, given?: string): Promise<number> {
  const found = findUser(db, name)
  if (!found) return notFound(io, name)
  const password = given ?? randomSecret(18)
  await setPassword(db, name, password)
  const ended = deleteUserSessions(db, found.id)
  record(db, 'user.updated', { username: name, role: found.role, passwordChanged: true }, name)
  io.out(
    `password of "${name}" changed; ${ended} session(s) ended` +
      (given ? '\n' : `. The new password is shown only now:\n  ${password}\n`),
  )
  return 0
}

function remove(db: Database, io: CliIo, name: string): number {
  const found = findUser(db, name)
  if (!found) return notFound(io, name)
  if (found.role === 'admin' && countAdmins(db) <= 1) {
    io.err(`hearth: "${name}" is the last admin; add another admin first\n`)
    return 1
  }
  deleteUser(db, name)
  record(db, 'user.removed', { username: name }, name)
  io.out(`user "${name}" removed\n`)
  return 0
}

function list(db: Database, io: CliIo, args: ParsedArgs): number {
  const users = listUsers(db)
  if (args.values.json) {
    io.out(`${JSON.stringify(users)}\n`)
    return 0
  }
  const width = Math.max(4, ...users.map((u) => u.username.length))
  io.out(`${'NAME'.padEnd(width)}  ROLE    CREATED\n`)
  for (const u of users) {
    io.out(`${u.username.padEnd(width)}  ${u.role.padEnd(6)}  ${new Date(u.createdAt).toISOString()}\n`)
  }
  return 0
}

function notFound(io: CliIo, name: string): number {
  io.err(`hearth: no user "${name}"\n`)
  return 1
}
