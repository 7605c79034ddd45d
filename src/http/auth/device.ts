import type { Database } from 'bun:sqlite'
import { type CredentialCache, hashDevicePassword } from '../../devices/credentials.ts'
import { findDeviceSecret, getDevice } from '../../devices/registry.ts'
import { Errors, type HubError } from '../../errors.ts'
import { findTokenBySecret, touchToken } from '../../store/tokens.ts'

interface DeviceAuthDeps {
  db: Database
  /** The hub's one cache, shared with the broker's auth: a device verified once is fast on both. */
  credentials: CredentialCache
  now?: () => number
}

/**
 * A device that proved who it is, or why not. `challenge` marks a 401 that HTTP Basic would
 * answer, so the route may name that scheme in `WWW-Authenticate` (RFC 7235 §3.1).
 */
type DeviceAuthResult = { device: string } | { error: HubError; challenge: boolean }

/**
 * Authenticates a device from an `Authorization` header: HTTP Basic with the device's own
 * credentials (username = device id), or, for the device a path names (`expectedDevice`), an API
 * token scoped to it (`hearth token create --device <id>`). The credentials must be that device's.
 */
type AuthenticateDevice = (header: string | undefined, expectedDevice?: string) => Promise<DeviceAuthResult>

/** Builds the HTTP device authenticator that `/ingest` and `/api/v1/push` share. */
export function createDeviceAuthenticator(deps: DeviceAuthDeps): AuthenticateDevice {
  const { db, credentials } = deps
  const now = deps.now ?? Date.now
  const refuse = (error: HubError, challenge = false) => ({ error, challenge })
  let decoyHash: Promise<string> | undefined

  return async (header, expected) => {
    const bearer = header ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined
    if (bearer !== undefined) {
      // A device-scoped token posts that device's readings only: it needs the device in the path.
      const token = findTokenBySecret(db, bearer)
      if (!token) return refuse(Errors.unauthenticated())
      if (expected === undefined || token.device !== expected) return refuse(Errors.forbidden())
      touchToken(db, token, now())
      if (!getDevice(db, expected)?.enabled) return refuse(Errors.forbidden())
      return { device: expected }
    }

    const basic = parseBasic(header)
    if (!basic) return refuse(Errors.unauthenticated(), true)
    if (expected !== undefined && basic.username !== expected) return refuse(Errors.forbidden())
    const secret = findDeviceSecret(db, basic.username)
    if (!secret || (expected !== undefined && secret.id !== expected)) {
      // An unknown device answers as a wrong password does, after as long: ids cannot be listed.
      decoyHash ??= hashDevicePassword(crypto.randomUUID())
      await Bun.password.verify(basic.password, await decoyHash)
      return refuse(Errors.badCredentials(), true)
    }
    if (!(await credentials.verify(secret.id, basic.password, secret.passwordHash)))
      return refuse(Errors.badCredentials(), true)
    if (!secret.enabled) return refuse(Errors.forbidden())
    return { device: secret.id }
  }
}

/** The user id and password of an `Authorization: Basic` header, if it is one. */
export function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  const m = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null
  if (!m?.[1]) return undefined
  const text = Buffer.from(m[1], 'base64').toString('utf8')
  const colon = text.indexOf(':')
  return colon < 0 ? undefined : { username: text.slice(0, colon), password: text.slice(colon + 1) }
}
