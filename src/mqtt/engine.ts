// createEngine: the MQTT engine as the hub drives it. Transports hand it sockets through `open`;
// everything else is the `Engine` interface of types.ts.
import mqttPacket from 'mqtt-packet'
import { Connection, type Wire } from './connection.ts'
import { EngineCore, type EngineOptions } from './core.ts'
import { isPromise } from './promise.ts'
import { NEVER, Session } from './session.ts'
import { parseFilter } from './topics.ts'
import type { Client, Engine, EngineLimits, InProcessSubscriber, Message, Transport } from './types.ts'

export interface ConnectionInfo {
  transport: Transport
  remoteAddress: string
  /** Subject CN of a verified client certificate (TLS), when known at open. */
  certificateCommonName?: string
}

/** The engine plus what its transports use. */
export interface MqttEngine extends Engine {
  readonly limits: EngineLimits
  /** A transport's new socket; undefined when refused (too many unauthenticated from its address). */
  open(wire: Wire, info: ConnectionInfo): Connection | undefined
}

export function createEngine(opts: EngineOptions): MqttEngine {
  // mqtt-packet's number cache (65,536 buffers) buys nothing for the few control packets it writes here.
  mqttPacket.writeToStream.cacheNumbers = false
  const core = new EngineCore(opts)
  const sweepMs = opts.sweepIntervalMs ?? Math.max(20, Math.min(500, core.limits.connectTimeoutMs / 4))
  let timer: ReturnType<typeof setInterval> | undefined
  let started = false

  const load = async (): Promise<void> => {
    const state = await core.store.load()
    for (const m of state.retained) core.retainedByTopic.set(m.topic, m)
    const now = core.now()
    for (const stored of state.sessions) {
      const session = Session.fromStored(stored)
      // A session that was connected when the process stopped counts as disconnected now.
      if (session.disconnectedAt === undefined) session.disconnectedAt = now
      core.sessions.set(session.clientId, session)
      for (const sub of session.subs.values()) core.subscribeTrie(session, sub)
      if (session.will) {
        session.willAt = now + session.will.delayInterval * 1000
        core.timed.add(session)
      }
      if (session.expiryInterval !== NEVER) core.timed.add(session)
    }
    core.sweep()
  }

  return {
    limits: core.limits,

    async start() {
      if (started) return
      started = true
      await load()
      timer = setInterval(() => core.sweep(), sweepMs)
      timer.unref?.()
    },

    async stop() {
      if (core.stopped) return
      core.stopped = true
      if (timer) clearInterval(timer)
      // §3.14.2.1 v5 clients hear 0x8B server shutting down
      for (const conn of [...core.connections]) conn.close(0x8b, 'server shutting down')
      core.flushAll()
      await core.durable()
    },

    async publish(message: Message) {
      const authorize = core.hooks.authorizePublish
      let m: Message | number | undefined = message
      if (authorize) {
        const r = authorize(null, message)
        m = isPromise<Message | number | undefined>(r) ? await r : r
        if (typeof m === 'number') return
        m ??= message
      }
      core.accept(m as Message, null)
      // The hub is not a socket to hold back.
      core.pressure = undefined
      const waits = core.takeHubWaits()
      core.flushAll()
      await core.durable()
      if (waits) await Promise.all(waits)
    },

    subscribe(filter: string, handler: InProcessSubscriber) {
      const parsed = parseFilter(filter, core.limits.maxTopicLevels)
      if (!parsed || parsed.group !== undefined) throw new Error(`invalid topic filter: ${filter}`)
      core.trie.addHandler(parsed.filter, handler)
      return () => core.trie.removeHandler(parsed.filter, handler)
    },

    retained: (filter: string) => core.retainedMatching(filter),

    clients: (): Client[] => [...core.live.values()],

    disconnect(clientId: string, reasonCode: number, reason?: string) {
      const conn = core.live.get(clientId)
      if (!conn) return false
      conn.close(reasonCode, reason ?? 'disconnected by the server')
      core.flushAll()
      return true
    },

    stats: () => core.stats(),

    setLimits(limits: Partial<EngineLimits>) {
      Object.assign(core.limits, limits)
    },

    sendTo(clientId: string, message: Message) {
      const conn = core.live.get(clientId)
      if (!conn?.connected) return false
      const sent = core.writePublish(conn, message, 0, message.retain, 0, false, undefined)
      core.flushAll()
      return sent
    },

    subscriptionsOf: (clientId: string) => [...(core.sessions.get(clientId)?.subs.values() ?? [])],

    unsubscribe(clientId: string, filters: readonly string[]) {
      const session = core.sessions.get(clientId)
      if (!session) return
      for (const filter of filters) {
        if (!session.subs.delete(filter)) continue
        core.unsubscribeTrie(session, filter)
        if (session.persistent) core.op({ op: 'unsubscribe', clientId, filter })
      }
    },

    open(wire: Wire, info: ConnectionInfo) {
      const n = core.pendingPerAddress.get(info.remoteAddress) ?? 0
      if (core.stopped || n >= core.limits.maxPendingConnectionsPerAddress) {
        core.counters.refusedConnections++
        wire.end()
        return undefined
      }
      core.pendingPerAddress.set(info.remoteAddress, n + 1)
      const conn = new Connection(core, wire, info.transport, info.remoteAddress, info.certificateCommonName)
      core.connections.add(conn)
      return conn
    },
  }
}
