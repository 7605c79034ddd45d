import type { Database } from 'bun:sqlite'
import type { Bus } from '../bus/bus.ts'
import type { Logger } from '../log.ts'
import { type Client, type Message, MqttError } from '../mqtt/types.ts'
import type { Identity } from './auth.ts'
import type { AclRule } from './config.ts'
import type { DeviceDirectory } from './device-directory.ts'
import type { BrokerPlugin } from './hooks.ts'
import { filterCovers, topicMatches } from './topic-filter.ts'

/** What every device may do without any configuration: its own subtree. */
const DEFAULT_DEVICE_RULES: readonly AclRule[] = [{ pattern: 'devices/%u/#', access: 'readwrite' }]

/** More rules for a device from elsewhere (the device's groups). */
type AclRuleProvider = (deviceId: string) => readonly AclRule[]

/** [MQTT-3.2.2.2] / [MQTT-3.9.3] reason code 0x87 Not authorized. */
const NOT_AUTHORIZED = 0x87

interface AclOptions {
  db: Database
  bus: Bus
  log: Logger
  identityOf(client: Client): Identity | undefined
  /** `mqtt.acl`: extra rules for every device. */
  rules: readonly AclRule[]
  /** `mqtt.anonymousAcl`: the only rules anonymous clients get. */
  anonymousRules: readonly AclRule[]
  /** `mqtt.disconnectOnDenied`: close the connection instead of dropping the message. */
  disconnectOnDenied: boolean
  /** Each device's own rules (devices/directory.ts). */
  devices: Pick<DeviceDirectory, 'listDeviceAclRules'>
  providers?: AclRuleProvider[]
  /** How long a client's resolved rules are reused before the database is read again. */
  refreshMs?: number
  /** Denials of one client within this window make one `acl.denied` event, with a count. */
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

interface Resolved {
  generation: number
  at: number
  read: string[]
  write: string[]
  /** `access = "deny"` patterns, checked before the allows (mosquitto's `topic deny`). */
  deny: string[]
}

interface DenialKey {
  action: 'publish' | 'subscribe'
  topic: string
  disconnected: boolean
}

/** One client's denials in the current window. */
interface Denials {
  since: number
  /** Denials counted but not yet reported, and the last of them. */
  held: number
  last: DenialKey | undefined
  /** action + topic already reported in this window. */
  seen: Set<string>
}

/** Keys of the shared rules of anonymous clients and of clients not (yet) authenticated. */
const ANONYMOUS_KEY = Symbol('anonymous')
const NOBODY_KEY = Symbol('nobody')

/** Distinct denials of one client reported one by one per window; beyond, they are counted. */
const DISTINCT_EVENTS_PER_WINDOW = 10

/**
 * Topic access control (docs/mqtt.md). A denied SUBSCRIBE gets SUBACK 0x87 (0x80 in 3.1.1); a
 * denied PUBLISH is answered 0x87 in its PUBACK (acknowledged and dropped for 3.1.1 and QoS 0
 * [MQTT-3.3.5-2]) or, with `disconnectOnDenied`, closes the connection. Denials are recorded as
 * `acl.denied` events, at most one per client and window. The hub's own publishes are allowed.
 */
export function createAcl(opts: AclOptions): Acl {
  const { listDeviceAclRules } = opts.devices
  const log = opts.log.child('acl')
  const refreshMs = opts.refreshMs ?? 1000
  const eventEveryMs = opts.eventEveryMs ?? 10_000
  const now = opts.now ?? Date.now
  const providers = [...(opts.providers ?? [])]
  /**
   * Resolved rules are shared by every client whose rules expand alike: all anonymous clients, all
   * connections of one device. Only a client whose rules name `%c` holds its own.
   */
  const shared = new Map<string | symbol, Resolved>()
  const own = new WeakMap<Client, Resolved>()
  const denials = new WeakMap<Client, Denials>()
  let rules = opts.rules
  let anonymousRules = opts.anonymousRules
  // Only the configured rules can deny: without one, deliveries skip the per-delivery check.
  const hasDeny = () => [...rules, ...anonymousRules].some((r) => r.access === 'deny')
  let denying = hasDeny()
  let generation = 0
  let disconnectOnDenied = opts.disconnectOnDenied

  // Entries of an older generation stay until replaced: `authorizeForward` applies the last ones.
  const changed = () => {
    generation++
  }

  const keyOf = (identity: Identity | undefined): string | symbol =>
    identity?.kind === 'device'
      ? identity.deviceId
      : identity?.kind === 'anonymous'
        ? ANONYMOUS_KEY
        : NOBODY_KEY

  const fresh = (r: Resolved | undefined, t: number): r is Resolved =>
    r !== undefined && r.generation === generation && t - r.at < refreshMs

  const rulesOf = (client: Client, identity: Identity | undefined): Resolved => {
    const t = now()
    const mine = own.get(client)
    if (fresh(mine, t)) return mine
    const key = keyOf(identity)
    const common = shared.get(key)
    if (fresh(common, t)) return common
    const list: AclRule[] = []
    let deviceId: string | undefined
    if (identity?.kind === 'device') {
      deviceId = identity.deviceId
      list.push(...DEFAULT_DEVICE_RULES, ...rules, ...listDeviceAclRules(opts.db, deviceId))
      for (const provider of providers) list.push(...provider(deviceId))
    } else if (identity?.kind === 'anonymous') {
      list.push(...anonymousRules)
    }
    const out: Resolved = { generation, at: t, read: [], write: [], deny: [] }
    let perClient = false
    for (const rule of list) {
      if (rule.pattern.includes('%c')) perClient = true
      const pattern = expand(rule.pattern, deviceId, client.id)
      if (pattern === undefined) continue
      if (rule.access === 'deny') {
        out.deny.push(pattern)
        continue
      }
      if (rule.access !== 'write') out.read.push(pattern)
      if (rule.access !== 'read') out.write.push(pattern)
    }
    if (perClient) own.set(client, out)
    else {
      own.delete(client)
      shared.set(key, out)
    }
    return out
  }

  /** The rules the client was last checked against, as they were (no refresh). */
  const lastRulesOf = (client: Client): Resolved | undefined =>
    own.get(client) ?? shared.get(keyOf(opts.identityOf(client)))

  const canPublish = (client: Client, topic: string): boolean => {
    // Devices can never publish to $SYS, whatever a rule says.
    if (topic === '$SYS' || topic.startsWith('$SYS/')) return false
    const r = rulesOf(client, opts.identityOf(client))
    return !anyMatches(r.deny, topic, topicMatches) && anyMatches(r.write, topic, topicMatches)
  }

  /** A filter is refused when a deny pattern covers it; narrower denials are applied per delivery. */
  const canSubscribe = (client: Client, filter: string): boolean => {
    const r = rulesOf(client, opts.identityOf(client))
    return !anyMatches(r.deny, filter, filterCovers) && anyMatches(r.read, filter, filterCovers)
  }

  const emitDenied = (client: Client, last: DenialKey, count?: number) => {
    const deviceId = deviceOfIdentity(opts.identityOf(client))
    const { action, topic, disconnected } = last
    opts.bus.emit(
      'acl.denied',
      {
        device: deviceId ?? null,
        clientId: client.id,
        action,
        topic,
        disconnected,
        ...(count === undefined ? {} : { count }),
      },
      deviceId ? { subject: deviceId } : {},
    )
  }

  /** Reports the denials a window held back as one event (`count`, the last topic). */
  const flush = (client: Client, d: Denials) => {
    if (d.held > 0 && d.last) emitDenied(client, d.last, d.held)
    d.held = 0
  }

  /**
   * A device publishing to forbidden topics in a loop must not flood the event log: within one
   * window a client's first denials of distinct topics are events at once (up to a few), the rest
   * are counted and reported as one event when the window is over or the client leaves.
   */
  const recordDenial = (
    client: Client,
    action: 'publish' | 'subscribe',
    topic: string,
    disconnected: boolean,
  ) => {
    const t = now()
    let d = denials.get(client)
    if (!d || t - d.since >= eventEveryMs) {
      if (d) flush(client, d)
      d = { since: t, held: 0, last: undefined, seen: new Set() }
      denials.set(client, d)
    }
    const key = `${action}\u0000${topic}`
    const last = { action, topic, disconnected }
    if (d.seen.has(key) || d.seen.size >= DISTINCT_EVENTS_PER_WINDOW) {
      d.held++
      d.last = last
      log.debug('denied again', { clientId: client.id, action, topic })
      return
    }
    d.seen.add(key)
    log.info('denied', { clientId: client.id, action, topic, disconnected })
    emitDenied(client, last)
  }

  return {
    name: 'acl',
    addProvider(provider) {
      providers.push(provider)
      changed()
    },
    invalidate() {
      changed()
    },
    setRules(next, nextAnonymous) {
      rules = next
      anonymousRules = nextAnonymous
      denying = hasDeny()
      changed()
    },
    setDisconnectOnDenied(disconnect) {
      disconnectOnDenied = disconnect
    },
    canPublish,
    canSubscribe,

    authorizePublish(client: Client | null, message: Message) {
      if (client === null) return undefined
      if (canPublish(client, message.topic)) return undefined
      recordDenial(client, 'publish', message.topic, disconnectOnDenied)
      if (disconnectOnDenied)
        throw new MqttError(NOT_AUTHORIZED, `not authorized to publish to ${message.topic}`)
      return NOT_AUTHORIZED
    },

    authorizeSubscribe(client, sub) {
      if (canSubscribe(client, sub.filter)) return sub
      recordDenial(client, 'subscribe', sub.filter, false)
      return NOT_AUTHORIZED
    },

    authorizeForward(client, message) {
      // A deny pattern narrower than the subscription (deny `a/secret` under a grant of `a/#`).
      if (!denying) return message
      const r = lastRulesOf(client)
      if (!r || r.deny.length === 0) return message
      return anyMatches(r.deny, message.topic, topicMatches) ? null : message
    },

    disconnected(client) {
      const d = denials.get(client)
      if (d) flush(client, d)
    },
  }
}
/** Whether a pattern applies; a loop, as it runs for every PUBLISH and SUBSCRIBE (no closure). */
function anyMatches(patterns: readonly string[], topic: string, matches: (p: string, t: string) => boolean) {
  for (let i = 0; i < patterns.length; i++) if (matches(patterns[i]!, topic)) return true
  return false
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
