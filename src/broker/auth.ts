import type { Database } from 'bun:sqlite'
import type { Bus } from '../bus/bus.ts'
import type { AuthFailure } from '../bus/events.ts'
import type { Logger } from '../log.ts'
import { type Client, MqttError } from '../mqtt/types.ts'
import type { CredentialCache, DeviceDirectory } from './device-directory.ts'
import type { BrokerPlugin } from './hooks.ts'

/** Who a connected client is, once authenticated. */
export type Identity =
  | {
      kind: 'device'
      deviceId: string
      via: 'password' | 'certificate'
      /** The device's `credentialsAt` as this authentication read it, with the hash it checked. */
      credentialsAt: number
    }
  | { kind: 'anonymous' }

/**
 * The owner of the sessions a client creates: a persistent session of one device is refused to
 * any other identity that uses its client id.
 */
const ownerOf = (deviceId: string) => `device:${deviceId}`
const ANONYMOUS_OWNER = 'anonymous'

/** Every anonymous client's identity: one object, not one per connection. */
const ANONYMOUS: Identity = Object.freeze({ kind: 'anonymous' })

/** CONNACK reason codes [MQTT-3.2.2.2]; 3.1.1 clients get 4 and 5 [MQTT-3.2.2.3]. */
const CONNACK_BAD_CREDENTIALS = 0x86
const CONNACK_NOT_AUTHORIZED = 0x87

interface AuthBackoff {
  /** Delay of the second failure's CONNACK from one address; doubles after that. */
  initialMs: number
  maxMs: number
  /** An address with no failure for this long starts again from no delay. */
  forgetAfterMs: number
}

const DEFAULT_AUTH_BACKOFF: AuthBackoff = { initialMs: 250, maxMs: 5000, forgetAfterMs: 60_000 }

interface AuthOptions {
  db: Database
  bus: Bus
  log: Logger
  allowAnonymous: boolean
  /** The device registry's lookups (devices/directory.ts). */
  devices: Pick<DeviceDirectory, 'findDeviceSecret' | 'hashDevicePassword' | 'createCredentialCache'>
  /** The hub's one cache, shared with HTTP device auth; whoever owns it forgets rotated devices. */
  credentials?: CredentialCache
  backoff?: AuthBackoff
  now?: () => number
}

export interface Auth extends BrokerPlugin {
  /** How the client authenticated; undefined before (or without) a successful CONNECT. */
  identityOf(client: Client): Identity | undefined
  /** The registered device the client authenticated as, if any. */
  deviceOf(client: Client): string | undefined
  /** Replaces `mqtt.allowAnonymous` (a config reload): decides the next CONNECTs, not open sessions. */
  setAllowAnonymous(allow: boolean): void
}

/**
 * The broker's one authenticator: device credentials minted by the hub
 * (argon2id, verified once then cached), an optional client certificate on the TLS listener
 * (device id = CN), anonymous clients only when `mqtt.allowAnonymous`. Refusals are answered
 * with CONNACK 4 or 5, recorded as `auth.failed`, and slowed down per address.
 */
export function createAuth(opts: AuthOptions): Auth {
  const { findDeviceSecret, hashDevicePassword, createCredentialCache } = opts.devices
  const log = opts.log.child('auth')
  const credentials = opts.credentials ?? createCredentialCache()
  const backoff = opts.backoff ?? DEFAULT_AUTH_BACKOFF
  const now = opts.now ?? Date.now
  const identities = new WeakMap<Client, Identity>()
  const failures = new Map<string, { count: number; last: number }>()
  let dummyHash: Promise<string> | undefined
  let allowAnonymous = opts.allowAnonymous

  const recordFailure = (address: string): number => {
    const t = now()
    if (failures.size > 10_000) {
      for (const [addr, f] of failures) if (t - f.last > backoff.forgetAfterMs) failures.delete(addr)
    }
    const prev = failures.get(address)
    const count = prev && t - prev.last <= backoff.forgetAfterMs ? prev.count + 1 : 1
    failures.set(address, { count, last: t })
    return count
  }

  const refuse = async (
    client: Client,
    code: number,
    reason: AuthFailure,
    username: string | undefined,
  ): Promise<never> => {
    const address = addressOf(client)
    const count = recordFailure(address)
    opts.bus.emit(
      'auth.failed',
      { address, username: username ?? null, clientId: client.id, reason },
      username ? { subject: username } : {},
    )
    log.info('connection refused', { address, username, clientId: client.id, reason, failures: count })
    // The first failure answers at once (a typo); repeated ones wait longer and longer, bounded.
    const delay = count <= 1 ? 0 : Math.min(backoff.initialMs * 2 ** (count - 2), backoff.maxMs)
    if (delay > 0) await Bun.sleep(delay)
    throw new MqttError(code, reason)
  }

  const viaCertificate = async (client: Client, cn: string, username: string | undefined) => {
    const secret = findDeviceSecret(opts.db, cn)
    if (!secret) return refuse(client, CONNACK_NOT_AUTHORIZED, 'unregistered certificate', cn)
    if (username !== undefined && username !== cn)
      return refuse(client, CONNACK_NOT_AUTHORIZED, 'certificate mismatch', username)
    if (!secret.enabled) return refuse(client, CONNACK_NOT_AUTHORIZED, 'device disabled', cn)
    identities.set(client, {
      kind: 'device',
      deviceId: secret.id,
      via: 'certificate',
      credentialsAt: secret.credentialsAt,
    })
    return ownerOf(secret.id)
  }

  const viaPassword = async (client: Client, username: string, password: Buffer | undefined) => {
    const secret = findDeviceSecret(opts.db, username)
    if (!secret) {
      // Spend what a real verification costs, so timing does not tell which usernames exist.
      dummyHash ??= hashDevicePassword(crypto.randomUUID())
      await Bun.password.verify(password?.toString('utf8') ?? '', await dummyHash)
      return refuse(client, CONNACK_BAD_CREDENTIALS, 'unknown device', username)
    }
    const ok = password
      ? await credentials.verify(secret.id, password.toString('utf8'), secret.passwordHash)
      : false
    if (!ok) return refuse(client, CONNACK_BAD_CREDENTIALS, 'bad password', username)
    if (!secret.enabled) return refuse(client, CONNACK_NOT_AUTHORIZED, 'device disabled', username)
    identities.set(client, {
      kind: 'device',
      deviceId: secret.id,
      via: 'password',
      credentialsAt: secret.credentialsAt,
    })
    return ownerOf(secret.id)
  }

  return {
    name: 'auth',
    identityOf: (client) => identities.get(client),
    deviceOf(client) {
      const id = identities.get(client)
      return id?.kind === 'device' ? id.deviceId : undefined
    },
    setAllowAnonymous(allow) {
      allowAnonymous = allow
    },

    // The session stays with its owner and its live connection is kept; the attempt is recorded.
    sessionRefused(client, owner) {
      const address = addressOf(client)
      const username = client.username ?? null
      log.warn('connection refused: the session belongs to another identity', {
        address,
        clientId: client.id,
        username,
        owner,
      })
      opts.bus.emit(
        'auth.failed',
        { address, username, clientId: client.id, reason: 'session of another identity' },
        username ? { subject: username } : {},
      )
    },

    // Synchronous for anonymous clients: a CONNECT that needs no verification makes no promise.
    authenticate(client, username, password) {
      const cn = verifiedCommonName(client)
      if (cn !== undefined) return viaCertificate(client, cn, username)
      if (username === undefined || username === '') {
        if (allowAnonymous) {
          identities.set(client, ANONYMOUS)
          return ANONYMOUS_OWNER
        }
        // Mosquitto answers 5 (not authorized) to anonymous clients it does not allow.
        return refuse(client, CONNACK_NOT_AUTHORIZED, 'anonymous refused', undefined)
      }
      return viaPassword(client, username, password)
    },
  }
}

/** The peer address of a client's connection, without the IPv4-mapped prefix. */
export function addressOf(client: Client): string {
  const raw = client.remoteAddress || 'unknown'
  return raw.startsWith('::ffff:') ? raw.slice(7) : raw
}

/**
 * The CN of a client certificate the TLS listener verified against `mqtt.tls.ca`, if any. Only
 * a listener with `requireClientCert` asks for certificates, and it refuses unverified ones.
 */
function verifiedCommonName(client: Client): string | undefined {
  const cn = client.certificateCommonName
  return cn !== undefined && cn.length > 0 ? cn : undefined
}
