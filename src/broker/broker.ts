import type { Logger } from '../log.ts'
import { createEngine, type MqttEngine } from '../mqtt/engine.ts'
import { createMemoryStore } from '../mqtt/memory-store.ts'
import type { Client, EngineLimits, EngineStore, InProcessSubscriber, Message } from '../mqtt/types.ts'
import type { Service } from '../runtime/service.ts'
import { type BrokerHandle, type BrokerPlugin, composeHooks } from './hooks.ts'

interface BrokerOptions {
  log: Logger
  /** Each concern's hooks, chained in this order (limits before auth, auth before the ACL …). */
  plugins?: BrokerPlugin[]
  /** Where sessions, queues and retained messages are kept; in memory when not given. */
  store?: EngineStore
  /** The engine's defaults where not given. */
  limits?: Partial<EngineLimits>
  now?: () => number
}

type PublishedListener = (message: Message, client: Client | null) => void

/**
 * The MQTT broker as the rest of the hub sees it: the engine with the hub's policy plugged in.
 * Nothing outside `src/mqtt` and `src/broker` reaches the engine any other way.
 */
export interface Broker extends Service, BrokerHandle {
  /** An in-process subscriber (rules, bridges): every message routed to `filter`. */
  subscribe(filter: string, handler: InProcessSubscriber): () => void
  /** Every message accepted (from clients and the hub), after the policy's own `published` hooks. */
  onPublished(listener: PublishedListener): () => void
  clients(): Client[]
  /** Changes the engine's limits (a config reload). */
  setLimits(limits: Partial<EngineLimits>): void
  /** For the transports (TCP, TLS, WebSocket) only. */
  readonly engine: MqttEngine
}

export function createBroker(opts: BrokerOptions): Broker {
  const log = opts.log.child('broker')
  const listeners = new Set<PublishedListener>()
  const observer: BrokerPlugin = {
    name: 'published-listeners',
    published(message, client) {
      for (const fn of listeners) {
        try {
          fn(message, client)
        } catch (err) {
          log.error('published listener failed', { err, topic: message.topic })
        }
      }
    },
  }
  const hooks = composeHooks([...(opts.plugins ?? []), observer], (err, hook) =>
    log.error('broker hook failed', { hook, err }),
  )
  const engine = createEngine({
    hooks,
    store: opts.store ?? createMemoryStore(),
    ...(opts.limits && { limits: opts.limits }),
    log,
    ...(opts.now && { now: opts.now }),
  })
  let running = false

  const self: Broker = {
    name: 'broker',
    engine,
    get running() {
      return running
    },
    async start() {
      if (running) return
      await engine.start()
      running = true
      for (const p of opts.plugins ?? []) p.attach?.(self)
    },
    async stop() {
      if (!running) return
      for (const p of [...(opts.plugins ?? [])].reverse()) p.detach?.()
      running = false
      await engine.stop()
    },
    publish(input) {
      if (!running) return Promise.reject(new Error('broker is not running'))
      const payload = typeof input.payload === 'string' ? Buffer.from(input.payload) : input.payload
      const message: Message = {
        topic: input.topic,
        payload,
        qos: input.qos ?? 0,
        retain: input.retain ?? false,
      }
      if (input.properties) message.properties = input.properties
      return engine.publish(message)
    },
    subscribe: (filter, handler) => engine.subscribe(filter, handler),
    onPublished(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    retained: (filter) => engine.retained(filter),
    clients: () => engine.clients(),
    subscriptionsOf: (clientId) => engine.subscriptionsOf(clientId),
    unsubscribe: (clientId, filters) => engine.unsubscribe(clientId, filters),
    disconnect: (clientId, reasonCode, reason) => engine.disconnect(clientId, reasonCode, reason),
    stats: () => engine.stats(),
    setLimits: (limits) => engine.setLimits(limits),
    sendTo: (clientId, message) => engine.sendTo(clientId, message),
  }
  return self
}
