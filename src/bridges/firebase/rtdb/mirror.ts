import { render } from '../../../actions/template.ts'
import type { Broker } from '../../../broker/broker.ts'
import type { Bus } from '../../../bus/bus.ts'
import type { EventType } from '../../../bus/events.ts'
import type { Logger } from '../../../log.ts'
import type { InProcessSubscriber } from '../../../mqtt/types.ts'
import type { Outbox } from '../../../outbox/outbox.ts'
import { type DeliveryHandler, type OutboxEntry, Outcome } from '../../../outbox/types.ts'
import type { Service } from '../../../runtime/service.ts'
import { valueAt } from '../../../util/json-path.ts'
import type { RtdbMirror } from '../config.ts'
import type { Health } from '../health.ts'
import { FirebaseFailure, outcomeOf } from '../http.ts'
import type { RtdbClient } from './client.ts'
import type { LocalTree } from './local-tree.ts'
import { isBadKeyChar, pathProblem, segments } from './tree.ts'

/** The outbox kind of mirror writes; the target is the database URL, so they flush in one order. */
export const RTDB_KIND = 'firebase-rtdb'

/** One queued write, as the outbox keeps it. */
interface RtdbWrite {
  op: 'set' | 'update'
  path: string
  value: unknown
}

interface RtdbMirrorOptions {
  url: string
  mappings: readonly RtdbMirror[]
  client: RtdbClient
  tree: LocalTree
  outbox: Pick<Outbox, 'enqueue' | 'register' | 'list' | 'discard'>
  broker: Broker
  bus: Bus
  log: Logger
  health: Health
}

// Writes flushed ahead of the one being delivered, at most.
const MAX_FLUSH = 1000

/**
 * Hub state → Realtime Database. Each mapped event or MQTT message is applied
 * to the local tree at once and queued in the outbox; the outbox delivers while the database is
 * reachable, and when it comes back the backlog is written in the order it was made, a write that
 * a later one replaces being skipped (last writer wins per path).
 */
export function createRtdbMirror(opts: RtdbMirrorOptions): Service & { handler: DeliveryHandler } {
  const log = opts.log.child('rtdb-mirror')
  const owner = 'firebase-rtdb-mirror'
  const subscriptions: Array<() => void> = []

  const write = (m: RtdbMirror, context: Record<string, unknown>): Promise<unknown> | undefined => {
    const path = render(m.path, context, { escape: escapeKey })
    if (path.missing.length) {
      log.debug('mirror path has no value', { path: m.path, missing: path.missing })
      return undefined
    }
    const problem = pathProblem(path.text)
    if (problem) {
      log.warn('mirror path is not writable', { path: path.text, problem })
      return undefined
    }
    const value =
      m.template !== undefined
        ? render(m.template, context).text
        : valueAt(context, m.value ?? ('detail' in context ? 'detail' : 'payload'))
    if (value === undefined) return undefined
    const key = segments(path.text).join('/')
    let changed: boolean
    if (m.op === 'update') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        log.warn('an update needs an object value', { path: key })
        return undefined
      }
      changed = opts.tree.update(key, value as Record<string, unknown>)
    } else changed = opts.tree.set(key, value)
    // The database already has it (or will, from an earlier write): nothing to send.
    if (!changed) return undefined
    const payload: RtdbWrite = { op: m.op, path: key, value }
    return opts.outbox.enqueue({ kind: RTDB_KIND, target: opts.url, payload }).catch((err: unknown) => {
      log.error('could not queue a mirror write', { path: key, err })
    })
  }

  // [MQTT-4.7.2-1] the engine does not match `$` topics with a leading wildcard.
  const onMessage = (m: RtdbMirror): InProcessSubscriber => {
    return (packet) => {
      const text = Buffer.from(packet.payload ?? '').toString('utf8')
      // Text unless the mapping asks: parsing by default made `312145610` a number and
      // `012145610` (not JSON: a leading zero) a string, so one field changed type with its digits.
      let payload: unknown = text
      if (m.json) {
        try {
          payload = JSON.parse(text)
        } catch {
          log.debug('payload is not JSON; written as text', { topic: packet.topic })
        }
      }
      const queued = write(m, { topic: packet.topic, levels: packet.topic.split('/'), payload, text })
      // QoS 1/2: acknowledged once the write is committed to the outbox.
      return queued?.then(() => undefined)
    }
  }

  // Every pending write of this database, oldest first, with whether a later one replaces it:
  // a later `set` of its node or of one above it (walked newest first, so it stays linear).
  const queueOf = (entry: OutboxEntry) => {
    const pending = opts.outbox
      .list({ kind: RTDB_KIND, target: entry.target, states: ['pending'], limit: MAX_FLUSH })
      .items.filter((e) => e.id !== entry.id)
    const queue = [...pending, entry].sort((a, b) => a.id - b.id)
    const setLater = new Set<string>()
    const out: Array<{ entry: OutboxEntry; write: RtdbWrite; replaced: boolean }> = []
    for (const e of queue.reverse()) {
      const w = e.payload as RtdbWrite
      const segs = w.path.split('/')
      const replaced = segs.some((_, i) => setLater.has(segs.slice(0, i + 1).join('/')))
      out.push({ entry: e, write: w, replaced })
      if (w.op === 'set') setLater.add(w.path)
    }
    return out.reverse()
  }

  const handler: DeliveryHandler = {
    // One at a time: every delivery first flushes the writes queued before it, in order, so the
    // database sees them as they were made even when their retries came due out of order.
    concurrency: () => 1,
    async deliver(entry, signal) {
      for (const { entry: e, write: w, replaced } of queueOf(entry)) {
        if (e.id > entry.id) break
        const mine = e.id === entry.id
        if (!replaced) {
          try {
            await opts.client.write(w.op, w.path, w.value, signal)
            opts.health.up()
          } catch (err) {
            const final = err instanceof FirebaseFailure && err.kind !== 'retry'
            // A refusal is an answer: the database is reachable.
            if (final) opts.health.up()
            else opts.health.down((err as Error).message)
            // An earlier write the database refuses for good is left to fail on its own turn.
            if (!mine && final) continue
            return outcomeOf(err)
          }
        }
        if (!mine) opts.outbox.discard(e.id)
      }
      return Outcome.ok()
    },
  }

  return {
    name: 'firebase-rtdb-mirror',
    handler,
    start() {
      opts.outbox.register(RTDB_KIND, handler)
      for (const m of opts.mappings) {
        if (m.event) {
          opts.bus.on(owner, m.event as EventType, (e) => {
            if (m.subject !== undefined && e.subject !== m.subject) return
            void write(m, { type: e.type, subject: e.subject ?? null, ts: e.ts, detail: e.detail })
          })
        } else if (m.topic) {
          subscriptions.push(opts.broker.subscribe(m.topic, onMessage(m)))
        }
      }
      log.info('mirroring to the realtime database', { mappings: opts.mappings.length })
    },
    stop() {
      opts.bus.off(owner)
      for (const remove of subscriptions.splice(0)) remove()
    },
  }
}

// A substituted value stays one key: separators and characters the database refuses become `_`.
function escapeKey(text: string): string {
  return Array.from(text, (ch) => (ch === '/' || isBadKeyChar(ch) ? '_' : ch)).join('')
}
