import type {
  Aedes,
  AedesOptions,
  AedesPublishPacket,
  Client,
  ConnectPacket,
  PublishPacket,
  Subscription,
} from 'aedes'

/** An error that carries an MQTT CONNACK return code (Aedes reads `returnCode`). */
export type ConnectError = Error & { returnCode: number }

export function connectError(returnCode: number, message: string): ConnectError {
  return Object.assign(new Error(message), { returnCode })
}

/**
 * One concern's share of the broker's behaviour (auth, ACL, conformance, limits, presence …).
 * Aedes takes one handler per hook; `composeHooks` chains every plugin's, in order.
 * Each method is async-first: return to allow, throw to refuse.
 */
export interface BrokerPlugin {
  name: string
  /** Before CONNECT is processed. Throw a ConnectError to answer with its CONNACK code. */
  preConnect?(client: Client, packet: ConnectPacket): Promise<void> | void
  /** The one plugin that authenticates; throw a ConnectError (4 or 5) to refuse. */
  authenticate?(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<void> | void
  /** Throw to refuse the PUBLISH (client is null for the hub's own publishes). */
  authorizePublish?(client: Client | null, packet: PublishPacket): Promise<void> | void
  /** Return the subscription (possibly changed), or null to refuse it (SUBACK 0x80). */
  authorizeSubscribe?(client: Client, sub: Subscription): Promise<Subscription | null> | Subscription | null
  /** Return the packet to deliver (possibly a copy with changes), or null to withhold it. */
  authorizeForward?(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null
  /** After a message was accepted and routed. */
  published?(packet: AedesPublishPacket, client: Client | null): Promise<void> | void
  /** Called once the Aedes instance exists: attach event listeners here. */
  attach?(aedes: Aedes): void
  /** Release what attach() took. */
  detach?(): void
}

type Hooks = Required<
  Pick<
    AedesOptions,
    | 'preConnect'
    | 'authenticate'
    | 'authorizePublish'
    | 'authorizeSubscribe'
    | 'authorizeForward'
    | 'published'
  >
>

/** Builds Aedes' single-handler hooks from the plugins, in order. Without an authenticator, everyone is let in. */
export function composeHooks(
  plugins: readonly BrokerPlugin[],
  onError: (err: unknown, hook: string) => void,
): Hooks {
  const having = <K extends keyof BrokerPlugin>(k: K) =>
    plugins
      .filter((p) => typeof p[k] === 'function')
      .map((p) => ({
        name: p.name,
        fn: (p[k] as (...a: unknown[]) => unknown).bind(p) as NonNullable<BrokerPlugin[K]>,
      }))
  const pre = having('preConnect')
  const auth = having('authenticate')
  const pub = having('authorizePublish')
  const sub = having('authorizeSubscribe')
  const fwd = having('authorizeForward')
  const done = having('published')
  if (auth.length > 1)
    throw new Error(`only one broker plugin may authenticate (${auth.map((a) => a.name).join(', ')})`)

  return {
    preConnect(client, packet, cb) {
      series(
        pre,
        (p) => p.fn(client, packet),
        () => cb(null, true),
        (err) => cb(err as Error, false),
      )
    },
    authenticate(client, username, password, cb) {
      series(
        auth,
        (p) => p.fn(client, username ?? undefined, password ?? undefined),
        () => cb(null, true),
        (err) => cb(err as ConnectError, false),
      )
    },
    authorizePublish(client, packet, cb) {
      series(
        pub,
        (p) => p.fn(client, packet),
        () => cb(null),
        (err) => cb(err as Error),
      )
    },
    authorizeSubscribe(client, subscription, cb) {
      let s: Subscription | null = subscription
      series(
        sub,
        (p) => {
          if (!s) return
          const r = p.fn(client, s)
          if (r instanceof Promise) {
            return r.then((next) => {
              s = next
            })
          }
          s = r
        },
        () => cb(null, s),
        (err) => {
          onError(err, 'authorizeSubscribe')
          cb(null, null)
        },
      )
    },
    authorizeForward(client, packet) {
      let out: AedesPublishPacket | null = packet
      for (const p of fwd) {
        if (!out) return null
        try {
          out = p.fn(client, out)
        } catch (err) {
          onError(err, `authorizeForward:${p.name}`)
          return null
        }
      }
      return out
    },
    published(packet, client, cb) {
      series(
        done,
        (p) => {
          // One plugin's bookkeeping must not fail the publish for the others.
          const report = (err: unknown) => onError(err, `published:${p.name}`)
          try {
            const r = p.fn(packet, client)
            if (r instanceof Promise) return r.catch(report)
          } catch (err) {
            report(err)
          }
        },
        () => cb(null),
        (err) => cb(err as Error),
      )
    },
  }
}

/**
 * Runs `step` for each item in order, stopping at the first throw or rejection. It stays
 * synchronous while no step returns a promise: this runs for every message, and most plugins
 * answer at once, so no promise or async frame is made for them.
 */
function series<T>(
  items: readonly T[],
  step: (item: T) => unknown,
  ok: () => void,
  fail: (err: unknown) => void,
): void {
  let i = 0
  const next = (): void => {
    while (i < items.length) {
      let r: unknown
      try {
        r = step(items[i++]!)
      } catch (err) {
        fail(err)
        return
      }
      if (r instanceof Promise) {
        r.then(next, fail)
        return
      }
    }
    ok()
  }
  next()
}
