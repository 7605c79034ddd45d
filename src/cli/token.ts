import type { Database } from 'bun:sqlite'
import { createTokenService, type TokenService } from '../accounts/token-service.ts'
import { getDevice } from '../devices/registry.ts'
import { openStore } from '../store/open.ts'
import { type ApiToken, listTokens, type TokenScope } from '../store/tokens.ts'
import { type CliIo, CONFIG_OPTION, type Command, type ParsedArgs, str, UsageError } from './command.ts'
import { configFor } from './config.ts'
import { eventLogBus } from './events.ts'
import { commandForm } from './invocation.ts'
import { printList, table } from './list.ts'

const SCOPES = ['read', 'write', 'admin'] as const

const SUBCOMMANDS = `
Subcommands:
  create --name N --scope read|write|admin [--json]   prints the secret once
  create --name N --device <id> [--json]              a token that may only post /ingest/<id>
  list [--json]                                       never the secrets
  revoke <id>`

/** `hearth token …`: API tokens, sent as `Authorization: Bearer hth_…`. */
export const token: Command = {
  name: 'token',
  summary: 'Manage API tokens: create (shows the secret once), list, revoke.',
  usage: `<create|list|revoke> [<id>] [options]\n${SUBCOMMANDS}`,
  subcommands: ['create', 'list', 'revoke'],
  options: {
    ...CONFIG_OPTION,
    name: { type: 'string', value: 'NAME', description: 'what the token is for, shown in lists (create)' },
    scope: { type: 'string', value: 'SCOPE', choices: SCOPES, description: 'what the token may do (create)' },
    device: { type: 'string', value: 'ID', description: 'a token that may only post /ingest/<id> (create)' },
    json: { type: 'boolean', description: 'print JSON instead of text (create, list)' },
  },
  async run(args, io) {
    const [sub, id] = args.positionals
    if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') {
      throw new UsageError(sub ? `unknown token subcommand "${sub}"` : 'which token subcommand?')
    }
    const name = str(args, 'name')
    const device = str(args, 'device')
    // A device token carries no API scope of its own; `write` fills the column.
    const scope = device ? (str(args, 'scope') ?? 'write') : str(args, 'scope')
    if (sub === 'create') {
      if (!name) throw new UsageError('token create needs --name')
      if (!scope || !(SCOPES as readonly string[]).includes(scope)) {
        throw new UsageError(`token create needs --scope ${SCOPES.join('|')}`)
      }
    }
    if (sub === 'revoke' && !id) throw new UsageError('token revoke needs a token id')
    const { config } = configFor(args, io)
    const store = openStore(config.dataDir)
    try {
      const tokens = createTokenService({ db: store.db, bus: eventLogBus(store.db) })
      if (sub === 'create') {
        // The service refuses an unknown device too; here the refusal says how to add it.
        if (device && !getDevice(store.db, device)) {
          io.err(`hearth token: no device "${device}" (${commandForm(io)} device add ${device})\n`)
          return 1
        }
        return create(tokens, io, args, name ?? '', scope as TokenScope, device)
      }
      if (sub === 'list') return list(store.db, io, args)
      return revoke(tokens, io, id ?? '')
    } finally {
      store.db.close()
    }
  },
}

function create(
  tokens: TokenService,
  io: CliIo,
  args: ParsedArgs,
  name: string,
  scope: TokenScope,
  device: string | undefined,
): number {
  const { token, secret } = tokens.create({ name, scope, createdBy: 'cli', device })
  if (args.values.json) {
    io.out(`${JSON.stringify({ ...token, secret })}\n`)
    return 0
  }
  io.out(
    `token ${token.id} "${name}" (${device ? `device ${device}, ingest only` : scope}) created. The secret is shown only now:\n  ${secret}\n` +
      `Send it as: Authorization: Bearer ${secret}\n`,
  )
  return 0
}

function list(db: Database, io: CliIo, args: ParsedArgs): number {
  const header = ['ID', 'NAME', 'SCOPE', 'PREFIX', 'CREATED', 'LAST USED']
  const row = (t: ApiToken) => [t.id, t.name, t.scope, `${t.prefix}…`, iso(t.createdAt), iso(t.lastUsedAt)]
  const empty = `no API tokens yet (${commandForm(io)} token create --name N --scope read)\n`
  return printList(io, args, listTokens(db), (tokens) => table(header, tokens.map(row)), empty)
}

function revoke(tokens: TokenService, io: CliIo, id: string): number {
  if (!tokens.revoke(id)) {
    io.err(`hearth: no token "${id}"\n`)
    return 1
  }
  io.out(`token ${id} revoked\n`)
  return 0
}

function iso(t: number | null): string {
  return t === null ? '-' : new Date(t).toISOString()
}
