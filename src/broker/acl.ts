import type { Database } from 'bun:sqlite'
import type { Aedes, Client, PublishPacket } from 'aedes'
import type { Bus } from '../bus/bus.ts'
import type { AclRule } from '../config/schema.ts'
import { listDeviceAclRules } from '../devices/acl-rules.ts'
import type { Logger } from '../log.ts'
import type { Identity } from './auth.ts'
import type { BrokerPlugin } from './hooks.ts'
import { filterCovers, topicMatches } from './topic-filter.ts'

/** What every device may do without any configuration: its own subtree (issue 3 point 5). */
export const DEFAULT_DEVICE_RULES: readonly AclRule[] = [{ pattern: 'devices/%u/#', access: 'readwrite' }]

/** More rules for a device from elsewhere (a later issue: the device's groups). */
export type AclRuleProvider = (deviceId: string) => readonly AclRule[]

export interface AclOptions {
  db: Database
  bus: Bus
  log: Logger
  identityOf(client: Client): Identity | undefined
  /** `mqtt.acl`: extra rules for every device. */
  rules: readonly AclRule[]
  /** `mqtt.anonymousAcl`: the only rules anonymous clients get. */
  anonymousRules: readonly AclRule[]
  /** `mqtt.disconnectOnDenied`: Aedes' behaviour (close the connection) instead of dropping. */
  disconnectOnDenied: boolean
  providers?: AclRuleProvider[]
  /** How long a client's resolved rules are reused before the database is read again. */
  refreshMs?: number
  /** Repeats of one denial (same client, action, topic) within this window are not recorded again. */
  eventEveryMs?: number
  now?: () => number
}

export interface Acl extends BrokerPlugin {
  /** Adds a source of per-device rules; takes effect at each client's next refresh. */
  addProvider(provider: AclRuleProvider): void
  /** Makes every client re-read its rules at its next PUBLISH or SUBSCRIBE. */
  invalidate(): void
  /**
   * Replaces `mqtt.acl` and `mqtt.anonymousAcl` (a config reload); connected clients get the new
   * rules at their next PUBLISH or SUBSCRIBE. Subscriptions granted before stay until unsubscribed.
   */
  setRules(rules: readonly AclRule[], anonymousRules: readonly AclRule[]): void
  /** Replaces `mqtt.disconnectOnDenied`. */
  setDisconnectOnDenied(disconnect: boolean): void
  /** Whether the client may publish to `topic` / subscribe to `filter`. */
  canPublish(client: Client, topic: string): boolean
  canSubscribe(client: Client, filter: string): boolean
}

/** Aedes' `publish(packet, [client], [done])` as it is really called (its typings show one form). */
type PublishFn = (packet: object, client?: unknown, done?: unknown) => void

/** The part of Aedes' persistence (untyped in its typings) that stores wills. */
interface WillStore {
  delWill(client: { id: string; brokerId: string }): Promise<unknown>
}

interface Resolved {
  generation: number
  at: number
  read: string[]
  write: string[]
}

/**
 * Topic access control (issue 3 point 5). A denied SUBSCRIBE gets SUBACK 0x80; a denied PUBLISH
 * is recorded as `acl.denied` and either dropped or, with `disconnectOnDenied`, refused the way
 * Aedes refuses (it closes the connection when authorizePublish fails). The hub's own publishes
 * (client null) are always allowed.
 */
export function createAcl(opts: AclOptions): Acl {
  const log = opts.log.child('acl')
  const refreshMs = opts.refreshMs ?? 1000
  const eventEveryMs = opts.eventEveryMs ?? 10_000
  const now = opts.now ?? Date.now
  const providers = [...(opts.providers ?? [])]
  const resolved = new WeakMap<Client, Resolved>()
  const recentDenials = new WeakMap<Client, Map<string, number>>()
  // Packets refused in drop mode: the publish wrapper below lets them go nowhere.
  const dropped = new WeakSet<object>()
  let generation = 0
  let configured = opts.rules
  let anonymousRules = opts.anonymousRules
  let disconnectOnDenied = opts.disconnectOnDenied
  let restore: (() => void) | undefined

  const rulesOf = (client: Client, identity: Identity | undefined): Resolved => {
    const t = now()
    const cached = resolved.get(client)
    if (cached && cached.generation === generation && t - cached.at < refreshMs) return cached
    const found: AclRule[] = []
    let deviceId: string | undefined
    if (identity?.kind === 'device') {
      deviceId = identity.deviceId
      found.push(...DEFAULT_DEVICE_RULES, ...configured, ...listDeviceAclRules(opts.db, deviceId))
      for (const provider of providers) found.push(...provider(deviceId))
    } else if (identity?.kind === 'anonymous') {
      found.push(...anonymousRules)
    }
    const out: Resolved = { generation, at: t, read: [], write: [] }
    for (const rule of found) {
      const pattern = expand(rule.pattern, deviceId, client.id)
      if (pattern === undefined) continue
      if (rule.access !== 'write') out.read.push(pattern)
      if (rule.access !== 'read') out.write.push(pattern)
    }
    resolved.set(client, out)
    return out
  }

  const canPublish = (client: Client, topic: string): boolean => {
    // Devices can never publish to $SYS (issue 3 point 5), whatever a rule says.
    if (topic === '$SYS' || topic.startsWith('$SYS/')) return false
    return rulesOf(client, opts.identityOf(client)).write.some((p) => topicMatches(p, topic))
  }

  const canSubscribe = (client: Client, filter: string): boolean =>
    rulesOf(client, opts.identityOf(client)).read.some((p) => filterCovers(p, filter))

  const recordDenial = (
    client: Client,
    action: 'publish' | 'subscribe',
    topic: string,
    disconnected: boolean,
  ) => {
    const deviceId = deviceOfIdentity(opts.identityOf(client))
    const key = `${action}\u0000${topic}`
    let seen = recentDenials.get(client)
    if (!seen) {
      seen = new Map()
      recentDenials.set(client, seen)
    }
    const t = now()
    const last = seen.get(key)
    // A device retrying a forbidden publish in a loop must not flood the event log.
    if (last !== undefined && t - last < eventEveryMs) {
      log.debug('denied again', { clientId: client.id, action, topic })
      return
    }
    if (seen.size > 100) seen.clear()
    seen.set(key, t)
    log.info('denied', { deviceId, clientId: client.id, action, topic, disconnected })
    opts.bus.emit(
      'acl.denied',
      { deviceId: deviceId ?? null, clientId: client.id, action, topic, disconnected },
      deviceId ? { subject: deviceId } : {},
    )
  }

  return {
    name: 'acl',
    addProvider(provider) {
      providers.push(provider)
      generation++
    },
    invalidate() {
      generation++
    },
    setRules(rules, anonymous) {
      configured = rules
      anonymousRules = anonymous
      generation++
    },
    setDisconnectOnDenied(disconnect) {
      disconnectOnDenied = disconnect
    },
    canPublish,
    canSubscribe,

    authorizePublish(client: Client | null, packet: PublishPacket) {
      if (client === null) return
      if (canPublish(client, packet.topic)) return
      recordDenial(client, 'publish', packet.topic, disconnectOnDenied)
      if (disconnectOnDenied) throw new Error(`not authorized to publish to ${packet.topic}`)
      // [MQTT-3.3.5-2] the server must either acknowledge normally or close the connection:
      // acknowledged here, routed nowhere.
      dropped.add(packet)
    },

    authorizeSubscribe(client, sub) {
      if (canSubscribe(client, sub.topic)) return sub
      recordDenial(client, 'subscribe', sub.topic, false)
      return null
    },

    attach(aedes: Aedes) {
      // Aedes has no "accept but discard" answer to authorizePublish: an error closes the
      // connection. Its publish handler passes the very packet object it authorized to
      // broker.publish (after the PUBACK, or after storing a QoS 2 packet), so that is where a
      // dropped packet is stopped: not delivered, not retained, not counted as published.
      const target = aedes as unknown as { publish: PublishFn }
      const original = target.publish
      const wrapper: PublishFn = function (this: unknown, packet, client, done) {
        if (!dropped.has(packet)) return original.call(this, packet, client, done)
        const cb = typeof client === 'function' ? client : done
        if (typeof cb === 'function') cb()
      }
      target.publish = wrapper
      // A will is checked when Aedes publishes it, except a will left by a hub that crashed: Aedes
      // publishes those with no client to check against. So a will the client may not publish is
      // withdrawn as soon as the client is registered.
      const checkWill = (client: Client) => {
        const c = client as Client & { will?: PublishPacket | null }
        if (!c.will || canPublish(client, c.will.topic)) return
        recordDenial(client, 'publish', c.will.topic, false)
        c.will = null
        const persistence = (aedes as unknown as { persistence: WillStore }).persistence
        persistence
          .delWill({ id: client.id, brokerId: aedes.id })
          .catch((err: unknown) => log.warn('could not delete a denied will', { clientId: client.id, err }))
      }
      aedes.on('client', checkWill)
      restore = () => {
        if (target.publish === wrapper) target.publish = original
        aedes.off('client', checkWill)
      }
    },
    detach() {
      restore?.()
      restore = undefined
    },
  }
}

/**
 * Replaces `%u` (device id) and `%c` (client id). A rule naming an identity the client does not
 * have (`%u` for anonymous clients) does not apply; nor does one whose substitution holds a
 * wildcard or separator, which would widen the rule (a client id `#`).
 */
function expand(pattern: string, deviceId: string | undefined, clientId: string): string | undefined {
  let out = pattern
  if (out.includes('%u')) {
    if (deviceId === undefined) return undefined
    out = out.replaceAll('%u', deviceId)
  }
  if (out.includes('%c')) {
    if (!clientId || /[/+#]/.test(clientId) || clientId.includes('\u0000')) return undefined
    out = out.replaceAll('%c', clientId)
  }
  return out
}

function deviceOfIdentity(identity: Identity | undefined): string | undefined {
  return identity?.kind === 'device' ? identity.deviceId : undefined
}
