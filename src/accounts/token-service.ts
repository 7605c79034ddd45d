import type { Database } from 'bun:sqlite'
import type { Bus } from '../bus/bus.ts'
import { getDevice } from '../devices/registry.ts'
import { Errors } from '../errors.ts'
import { type ApiToken, createToken, revokeToken, type TokenScope } from '../store/tokens.ts'

interface TokenServiceOptions {
  db: Database
  /** The hub's bus, or the event log when the CLI changes tokens in its own process. */
  bus: Pick<Bus, 'emit'>
  now?: () => number
}

/**
 * API tokens as the API and the CLI share them: each change is a `token.*` event with the token
 * id as its subject (never the secret).
 */
export interface TokenService {
  /**
   * Mints a token whose secret is in the answer only. A device token may only post that
   * device's readings; an unknown device is 40401.
   */
  create(input: { name: string; scope: TokenScope; createdBy: string; device?: string | undefined }): {
    token: ApiToken
    secret: string
  }
  /** False when there was no such token. */
  revoke(id: string): boolean
}

export function createTokenService(opts: TokenServiceOptions): TokenService {
  const { db, bus } = opts
  const now = opts.now ?? Date.now
  return {
    create({ name, scope, createdBy, device }) {
      if (device !== undefined && !getDevice(db, device)) throw Errors.notFound('device')
      const created = createToken(db, { name, scope, createdBy, ...(device ? { device } : {}) }, now())
      const { token } = created
      bus.emit('token.created', { id: token.id, name, scope, createdBy }, { subject: token.id })
      return created
    },
    revoke(id) {
      if (!revokeToken(db, id)) return false
      bus.emit('token.revoked', { id }, { subject: id })
      return true
    },
  }
}
