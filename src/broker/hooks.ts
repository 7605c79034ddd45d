import type {
  Client,
  ConnectRequest,
  DisconnectInfo,
  EngineHooks,
  EngineStats,
  MaybePromise,
  Message,
  MessageProperties,
  QoS,
  Subscription,
} from '../mqtt/types.ts'

/**
 * One concern's share of the broker's policy (auth, ACL, presence, telemetry …): any of the
 * engine's hooks. `composeHooks` chains every plugin's, in list order.
 */
export interface BrokerPlugin extends Partial<Omit<EngineHooks, 'authenticate'>> {
  name: string
  /** Only one plugin authenticates. */
  authenticate?: EngineHooks['authenticate']
  /** Once the broker runs (its store loaded): the plugin may publish from here on. */
  attach?(broker: BrokerHandle): void
  /** Before the broker stops: release what attach() took. */
  detach?(): void
}

/** The broker a plugin sends through: `current` from its `attach` to its `detach`, else undefined. */
interface AttachedBroker {
  current: BrokerHandle | undefined
  attach(broker: BrokerHandle): void
  detach(): void
}

export function attachedBroker(): AttachedBroker {
  const slot: AttachedBroker = {
    current: undefined,
    attach: (broker) => {
      slot.current = broker
    },
    detach: () => {
      slot.current = undefined
    },
  }
  return slot
}

/** What the hub publishes: the payload may be text, QoS and retain default to 0 and false. */
interface PublishInput {
  topic: string
  payload: Buffer | string
  qos?: QoS
  retain?: boolean
  properties?: MessageProperties
}

/** What a plugin may do with the broker it is part of (the `Broker` façade is one). */
export interface BrokerHandle {
  /** The hub's own publish; resolves once the message is durable (retained, queued). */
  publish(message: PublishInput): Promise<void>
  /** True between start() and stop(). */
  readonly running: boolean
  stats(): EngineStats
  /** Sends to one connected client only (the current $SYS values to a new subscriber). */
  sendTo(clientId: string, message: Message): boolean
  /** A connected or persistent client's subscriptions. */
  subscriptionsOf(clientId: string): Subscription[]
  /** Removes a client's subscriptions, as if it had unsubscribed (a revoked grant). */
  unsubscribe(clientId: string, filters: readonly string[]): void
  /** Closes a client's connection with an MQTT 5 reason code (0x87 not authorized …). */
  disconnect(clientId: string, reasonCode: number, reason?: string): boolean
  retained(filter: string): Message[]
}

type Step<T> = (item: T) => unknown

type Publishers = ReadonlyArray<{ name: string; plugin: BrokerPlugin }>

/** The rest of `authorizePublish` once a plugin answered with a promise. */
async function authorizeLater(
  pub: Publishers,
  from: number,
  client: Client | null,
  message: Message,
  current: Message,
  pending: Promise<Message | number | undefined>,
): Promise<Message | number | undefined> {
  let m = current
  const first = await pending
  if (typeof first === 'number') return first
  if (first) m = first
  for (let i = from; i < pub.length; i++) {
    const verdict = await pub[i]!.plugin.authorizePublish!(client, m)
    if (typeof verdict === 'number') return verdict
    if (verdict) m = verdict
  }
  return m === message ? undefined : m
}

/**
 * Runs `step` for each item in order and stays synchronous while no step returns a promise: this
 * runs for every message and most plugins answer at once, so no promise is made for them.
 */
function series<T>(items: readonly T[], step: Step<T>, from = 0): MaybePromise<void> {
  for (let i = from; i < items.length; i++) {
    const r = step(items[i]!)
    if (r instanceof Promise) return r.then(() => series(items, step, i + 1))
  }
}

const having = <K extends keyof BrokerPlugin>(plugins: readonly BrokerPlugin[], k: K) =>
  plugins.filter((p) => typeof p[k] === 'function').map((p) => ({ name: p.name, plugin: p }))

/**
 * Builds the engine's hooks from the plugins. Refusals (an MqttError or a reason code) stop the
 * chain; a plugin's own failure in a notification hook is reported and does not stop the others.
 */
export function composeHooks(
  plugins: readonly BrokerPlugin[],
  onError: (err: unknown, hook: string) => void,
): EngineHooks {
  const pre = having(plugins, 'preConnect')
  const auth = having(plugins, 'authenticate')
  const pub = having(plugins, 'authorizePublish')
  const sub = having(plugins, 'authorizeSubscribe')
  const fwd = having(plugins, 'authorizeForward')
  const done = having(plugins, 'published')
  const rewrite = having(plugins, 'rewriteTopic')
  if (auth.length > 1)
    throw new Error(`only one broker plugin may authenticate (${auth.map((a) => a.name).join(', ')})`)
  const authenticator = auth[0]?.plugin

  // Runs for every SUBSCRIBE: synchronous and without closures while every plugin answers at once.
  const authorizeSubscribeFrom = (
    client: Client,
    subscription: Subscription | number,
    from: number,
  ): MaybePromise<Subscription | number> => {
    let s = subscription
    for (let i = from; i < sub.length && typeof s !== 'number'; i++) {
      const verdict = sub[i]!.plugin.authorizeSubscribe!(client, s)
      if (verdict instanceof Promise) return verdict.then((v) => authorizeSubscribeFrom(client, v, i + 1))
      s = verdict
    }
    return s
  }

  const notify = <
    K extends 'connected' | 'disconnected' | 'subscribed' | 'delivered' | 'sessionRefused' | 'queueOverflow',
  >(
    k: K,
  ) => {
    const list = having(plugins, k)
    if (list.length === 0) return undefined
    // Every notification has at most two arguments: a fixed arity makes no array per call.
    return (a: unknown, b: unknown) => {
      for (const { name, plugin } of list) {
        try {
          ;(plugin[k] as (a: unknown, b: unknown) => void)(a, b)
        } catch (err) {
          onError(err, `${k}:${name}`)
        }
      }
    }
  }

  const publishedFrom = (from: number, message: Message, client: Client | null): MaybePromise<void> => {
    for (let i = from; i < done.length; i++) {
      const p = done[i]!
      let r: unknown
      try {
        r = p.plugin.published!(message, client)
      } catch (err) {
        onError(err, `published:${p.name}`)
        continue
      }
      if (r instanceof Promise) return publishedAfter(r, i, message, client)
    }
  }
  // Apart from publishedFrom so that it makes no closure (nor scope for one) per message.
  const publishedAfter = (
    r: Promise<unknown>,
    i: number,
    message: Message,
    client: Client | null,
  ): Promise<void> =>
    r.then(
      () => publishedFrom(i + 1, message, client),
      (err: unknown) => {
        onError(err, `published:${done[i]!.name}`)
        return publishedFrom(i + 1, message, client)
      },
    )

  const hooks: EngineHooks = {
    preConnect(client: Client, connect: ConnectRequest) {
      return series(pre, (p) => p.plugin.preConnect!(client, connect))
    },
    authorizePublish(client: Client | null, message: Message) {
      // Every PUBLISH comes through here: no closure while every plugin answers at once.
      let m = message
      for (let i = 0; i < pub.length; i++) {
        const verdict = pub[i]!.plugin.authorizePublish!(client, m)
        if (verdict instanceof Promise) return authorizeLater(pub, i + 1, client, message, m, verdict)
        if (typeof verdict === 'number') return verdict
        if (verdict) m = verdict
      }
      return m === message ? undefined : m
    },
    authorizeSubscribe(client: Client, subscription: Subscription) {
      return authorizeSubscribeFrom(client, subscription, 0)
    },
    authorizeForward(client: Client, message: Message) {
      let out: Message | null = message
      for (const p of fwd) {
        if (!out) return null
        try {
          out = p.plugin.authorizeForward!(client, out)
        } catch (err) {
          onError(err, `authorizeForward:${p.name}`)
          return null
        }
      }
      return out
    },
    published(message: Message, client: Client | null) {
      // One plugin's bookkeeping must not fail the publish for the others; every message comes
      // through here, so no closure while every plugin answers at once.
      return publishedFrom(0, message, client)
    },
    connected: notify('connected') as EngineHooks['connected'],
    disconnected: notify('disconnected') as ((client: Client, info: DisconnectInfo) => void) | undefined,
    subscribed: notify('subscribed') as EngineHooks['subscribed'],
    delivered: notify('delivered') as EngineHooks['delivered'],
    sessionRefused: notify('sessionRefused') as EngineHooks['sessionRefused'],
    queueOverflow: notify('queueOverflow') as EngineHooks['queueOverflow'],
  }
  if (authenticator?.authenticate) hooks.authenticate = authenticator.authenticate.bind(authenticator)
  if (rewrite.length > 0)
    hooks.rewriteTopic = (client, topic) => {
      let t = topic
      for (const p of rewrite) t = p.plugin.rewriteTopic!(client, t)
      return t
    }
  if (fwd.length === 0) delete hooks.authorizeForward
  // Without a plugin to ask, a CONNECT makes no call (and no closure) for it.
  if (pre.length === 0) delete hooks.preConnect
  return hooks
}
