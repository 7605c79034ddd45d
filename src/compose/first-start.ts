import type { Database } from 'bun:sqlite'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Bus } from '../bus/bus.ts'
import type { Config } from '../config/schema.ts'
import type { Logger } from '../log.ts'
import { INITIAL_ADMIN_FILE, INITIAL_ADMIN_USER } from '../store/initial-admin.ts'
import type { OpenedStore } from '../store/open.ts'
import { randomSecret } from '../store/tokens.ts'
import { countUsers, createUser } from '../store/users.ts'

/**
 * Creates the admin on an empty database and answers its generated password, shown once; the
 * password file is written here so it exists before anyone is told about it.
 */
export async function ensureAdmin(
  db: Database,
  config: Config,
  now: () => number,
): Promise<string | undefined> {
  if (countUsers(db) > 0) return undefined
  const password = config.admin.password ?? randomSecret(24)
  await createUser(db, INITIAL_ADMIN_USER, password, 'admin', now())
  if (config.admin.password) return undefined
  const file = join(config.dataDir, INITIAL_ADMIN_FILE)
  writeFileSync(file, `${password}\n`, { mode: 0o600 })
  chmodSync(file, 0o600)
  return password
}

/** Says what opening the store did: an upgrade (logged) or a corrupt file moved away (an alert). */
export function announceStore(store: OpenedStore, log: Logger, bus: Bus): void {
  if (store.upgraded)
    log.info('database upgraded; the copy from before stays until the next upgrade', { ...store.upgraded })
  if (store.corrupt) {
    log.error('database failed its integrity check; started on a fresh one', store.corrupt)
    bus.emit('store.corrupt', store.corrupt, { subject: 'database' })
    bus.emit('alert', {
      source: 'store',
      severity: 'critical',
      message: `corrupt database moved to ${store.corrupt.movedTo}`,
    })
  }
}
