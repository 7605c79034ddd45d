import { createHmac, randomBytes } from 'node:crypto'
import type { CredentialCache } from '../broker/device-directory.ts'

export type { CredentialCache }

/** Random bytes in a device password: at least 24, so it cannot be guessed online. */
const DEVICE_PASSWORD_BYTES = 24

/** A fresh URL-safe device password (base64url of 24 random bytes, 32 characters). */
export function newDevicePassword(): string {
  return randomBytes(DEVICE_PASSWORD_BYTES).toString('base64url')
}

/** argon2id (the OWASP recommendation for passwords); Bun's defaults for cost. */
export function hashDevicePassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: 'argon2id' })
}

/**
 * Remembers successful argon2id verifications so a reconnect storm of known devices costs
 * microseconds, not tens of milliseconds each. An entry is tied to the stored hash it was checked
 * against: a rotation (a new hash, even when done by `hearth device rotate` in another process)
 * misses the cache by itself, so a stale entry can never let an old password in.
 */
export function createCredentialCache(opts: { maxEntries?: number } = {}): CredentialCache {
  const maxEntries = opts.maxEntries ?? 10_000
  // Keyed HMAC with a per-process key: the map never holds a fast, offline-guessable digest.
  const key = randomBytes(32)
  const entries = new Map<string, { digest: string; passwordHash: string }>()

  const digestOf = (password: string) => createHmac('sha256', key).update(password).digest('base64url')

  return {
    async verify(deviceId, password, passwordHash) {
      const digest = digestOf(password)
      const hit = entries.get(deviceId)
      if (hit && hit.digest === digest && hit.passwordHash === passwordHash) {
        // Re-insert so the Map's order doubles as least-recently-used.
        entries.delete(deviceId)
        entries.set(deviceId, hit)
        return true
      }
      const ok = await Bun.password.verify(password, passwordHash)
      if (ok) {
        entries.delete(deviceId)
        entries.set(deviceId, { digest, passwordHash })
        if (entries.size > maxEntries) {
          const oldest = entries.keys().next().value
          if (oldest !== undefined) entries.delete(oldest)
        }
      }
      return ok
    },
    forget(deviceId) {
      entries.delete(deviceId)
    },
    get size() {
      return entries.size
    },
  }
}
