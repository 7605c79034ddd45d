import type { Database } from 'bun:sqlite'
import { groupExists, groupMembers } from '../../devices/groups.ts'
import { getPushToken, pushTokenId, type Recipient, recipientsWhere } from './tokens.ts'

/** Who a push goes to: one token, a device, a label, a group, or every token. */
export type PushTarget =
  | { kind: 'all' }
  | { kind: 'token'; token: string }
  | { kind: 'tokens'; tokens: readonly string[] }
  | { kind: 'device'; device: string }
  | { kind: 'devices'; devices: readonly string[] }
  | { kind: 'label'; label: string }
  | { kind: 'group'; group: string }

/**
 * The outbox target of a push target: batches of one target share its concurrency, its circuit
 * breaker and its pause. A single token is named by its id, never by the token itself.
 */
export function targetKey(t: PushTarget): string {
  switch (t.kind) {
    case 'all':
      return 'all'
    case 'token':
      return `token:${pushTokenId(t.token)}`
    case 'tokens':
      return 'tokens'
    case 'device':
      return `device:${t.device}`
    case 'devices':
      return 'devices'
    case 'label':
      return `label:${t.label}`
    case 'group':
      return `group:${t.group}`
  }
}

/**
 * The tokens a target means now. Tokens given by hand are sent even when not registered (their
 * platform is then unknown); undefined for a group that does not exist.
 */
export function resolveRecipients(db: Database, t: PushTarget): Recipient[] | undefined {
  switch (t.kind) {
    case 'all':
      return recipientsWhere(db, { all: true })
    case 'token':
    case 'tokens': {
      const list = t.kind === 'token' ? [t.token] : [...new Set(t.tokens)]
      return list.map((token) => ({ token, platform: getPushToken(db, token)?.platform ?? null }))
    }
    case 'device':
      return recipientsWhere(db, { device: t.device })
    case 'devices':
      return recipientsWhere(db, { devices: t.devices })
    case 'label':
      return recipientsWhere(db, { label: t.label })
    case 'group':
      if (!groupExists(db, t.group)) return undefined
      return recipientsWhere(db, { devices: groupMembers(db, t.group) })
  }
}
