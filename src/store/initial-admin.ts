import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'

/** The file beside the database holding the password generated for `admin` on the first start. */
export const INITIAL_ADMIN_FILE = 'initial-admin-password'
/** The user the first start creates. */
export const INITIAL_ADMIN_USER = 'admin'

/**
 * Removes the first-start password file once `admin` has another password: left behind, it would
 * show a password that no longer works. Answers whether a file was removed.
 */
export function forgetInitialAdminPassword(dataDir: string, username: string): boolean {
  if (username !== INITIAL_ADMIN_USER) return false
  const file = join(dataDir, INITIAL_ADMIN_FILE)
  if (!existsSync(file)) return false
  rmSync(file, { force: true })
  return true
}
