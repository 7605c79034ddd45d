import type { EventEmitter } from 'node:events'
import { Aedes, type AedesOptions } from 'aedes'
import mqttPacket from 'mqtt-packet'
import type { Logger } from '../log.ts'
import type { Service } from '../runtime/service.ts'
import { type BrokerPlugin, composeHooks } from './hooks.ts'

export interface BrokerOptions {
  log: Logger
  /** Each concern's hooks, chained in this order (conformance before ACL, and so on). */
  plugins?: BrokerPlugin[]
  /** Other Aedes options (persistence, limits). Hooks come from `plugins`. */
  aedes?: Omit<
    AedesOptions,
    | 'preConnect'
    | 'authenticate'
    | 'authorizePublish'
    | 'authorizeSubscribe'
    | 'authorizeForward'
    | 'published'
  >
}

/** The Aedes instance as a service. It opens no socket itself: listeners call `handle`. */
export interface Broker extends Service {
  /** Valid after `start()`. */
  readonly aedes: Aedes
}

// mqtt-packet makes 65,536 two-byte buffers for packet ids on its first write: ~5 MB of small
// objects (and the heap's room for them) that a home hub never needs. Make an id's bytes when written.
mqttPacket.writeToStream.cacheNumbers = false

export function createBroker(opts: BrokerOptions): Broker {
  const log = opts.log.child('broker')
  let aedes: Aedes | undefined

  return {
    name: 'broker',
    get aedes() {
      if (!aedes) throw new Error('broker is not started')
      return aedes
    },
    async start() {
      if (aedes) return
      const plugins = opts.plugins ?? []
      const hooks = composeHooks(plugins, (err, hook) => log.error('broker hook failed', { hook, err }))
      aedes = await Aedes.createBroker({ ...opts.aedes, ...hooks })
      for (const p of plugins)
        p.attach?.(aedes)
        // Aedes emits 'error' on persistence failure; without a listener the process dies.
      ;(aedes as EventEmitter).on('error', (err: Error) => log.error('broker error', { err }))
      aedes.on('clientError', (client, err) =>
        log.debug('client error', { clientId: client?.id, error: err.message }),
      )
      aedes.on('connectionError', (client, err) =>
        log.debug('connection error', { clientId: client?.id, error: err.message }),
      )
    },
    async stop() {
      const a = aedes
      aedes = undefined
      for (const p of opts.plugins ?? []) p.detach?.()
      if (a && !a.closed) await new Promise<void>((resolve) => a.close(() => resolve()))
    },
  }
}
