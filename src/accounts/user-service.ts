import type { Database } from 'bun:sqlite'
import type { Bus } from '../bus/bus.ts'
import { Errors } from '../errors.ts'
import { deleteUserSessions } from '../store/sessions.ts'
import { randomSecret } from '../store/tokens.ts'
import {
  countAdmins,
  createUser,
  deleteUser,
  findUser,
  setPassword,
  setRole,
  type User,
} from '../store/users.ts'

interface UserServiceOptions {
  db: Database
  /** The hub's bus, or the event log when the CLI changes users in its own process. */
  bus: Pick<Bus, 'emit'>
  /** After a user's password changed (the first-start password file no longer holds it). */
  onPasswordChanged?(username: string): void
  now?: () => number
}

/**
 * The people who log in to the console, as the API, the login routes and the CLI share them
 * (ntfy's `user.Manager`): each change is a `user.*` event with the username as its subject.
 * Refusals are `HubError`s (40901); undefined means there is no such user.
 */
export interface UserService {
  /** Without a password, one is generated and returned here only. */
  create(input: {
    username: string
    password?: string | undefined
    role: string
  }): Promise<{ user: User; password?: string }>
  /**
   * A new role or password; never takes the admin role from the last admin. A new password ends
   * the user's sessions, all but `keepSession` (the one that asked).
   */
  update(
    username: string,
    change: { role?: string | undefined; password?: string | undefined; keepSession?: string | undefined },
  ): Promise<{ user: User; sessionsEnded: number } | undefined>
  /** Never the last admin; the user's sessions go with them. */
  remove(username: string): User | undefined
}

export function createUserService(opts: UserServiceOptions): UserService {
  const { db, bus } = opts
  const now = opts.now ?? Date.now
  const lastAdmin = (user: User) => user.role === 'admin' && countAdmins(db) <= 1

  return {
    async create({ username, password, role }) {
      if (findUser(db, username)) throw Errors.conflict(`user ${username} already exists`)
      const generated = password === undefined ? randomSecret(18) : undefined
      const user = await createUser(db, username, password ?? generated ?? '', role, now())
      bus.emit('user.created', { username: user.username, role: user.role }, { subject: user.username })
      return { user, ...(generated ? { password: generated } : {}) }
    },
    async update(username, change) {
      const user = findUser(db, username)
      if (!user) return undefined
      if (change.role && change.role !== 'admin' && lastAdmin(user))
        throw Errors.conflict('the last admin cannot lose the admin role')
      if (change.role) setRole(db, username, change.role)
      let sessionsEnded = 0
      if (change.password !== undefined) {
        await setPassword(db, username, change.password)
        sessionsEnded = deleteUserSessions(db, user.id, change.keepSession)
        opts.onPasswordChanged?.(username)
      }
      const updated = findUser(db, username) ?? user
      const passwordChanged = change.password !== undefined
      bus.emit('user.updated', { username, role: updated.role, passwordChanged }, { subject: username })
      return { user: updated, sessionsEnded }
    },
    remove(username) {
      const user = findUser(db, username)
      if (!user) return undefined
      if (lastAdmin(user)) throw Errors.conflict('the last admin cannot be removed; add another admin first')
      deleteUser(db, username)
      bus.emit('user.removed', { username }, { subject: username })
      return user
    },
  }
}
