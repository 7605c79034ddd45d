import type { PublishFn } from '../../../actions/publish.ts'
import { asText, render } from '../../../actions/template.ts'
import type { Bus } from '../../../bus/bus.ts'
import type { Logger } from '../../../log.ts'
import type { Service } from '../../../runtime/service.ts'
import { isServerTopic } from '../../../util/topic.ts'
import type { RtdbListen } from '../config.ts'
import type { Health } from '../health.ts'
import type { RtdbChange, RtdbClient } from './client.ts'
import type { LocalTree } from './local-tree.ts'
import { joinPath } from './tree.ts'

interface RtdbListenerOptions {
  listen: RtdbListen
  client: RtdbClient
  tree: LocalTree
  bus: Bus
  log: Logger
  publish: PublishFn
  health: Health
  idleTimeoutMs: number
}

/**
 * Realtime Database → hub: streams one path with server-sent events; a change
 * that differs from the local copy is stored, becomes a `firebase.rtdb.changed` event and, with a
 * topic, an MQTT publish. Echoes of the hub's own mirror writes equal the local copy and stop
 * there. A stream that drops fails the service, so the supervisor reopens it with back-off and
 * the outage is reported like any other.
 */
export function createRtdbListener(opts: RtdbListenerOptions): Service {
  const { listen, tree, bus } = opts
  const root = joinPath(listen.path)
  const log = opts.log.child('rtdb-listen', { path: root })
  let abort: AbortController | undefined
  let running: Promise<void> | undefined

  const onChange = (change: RtdbChange) => {
    const path = joinPath(root, change.path)
    let changed: boolean
    if (change.event === 'put') changed = tree.set(path, change.data)
    else if (change.data && typeof change.data === 'object' && !Array.isArray(change.data))
      changed = tree.update(path, change.data as Record<string, unknown>)
    else {
      log.warn('a patch without an object', { path })
      return
    }
    if (!changed) return
    bus.emit('firebase.rtdb.changed', { path, op: change.event, data: change.data }, { subject: path })
    if (!listen.topic) return
    const context = { path, relative: joinPath(change.path), data: change.data }
    const topic = render(listen.topic, context, { escape: (t) => t.replace(/[+#\0]/g, '_') })
    if (topic.missing.length || !topic.text || isServerTopic(topic.text)) {
      log.warn('no topic for a change', { path, topic: topic.text, missing: topic.missing })
      return
    }
    opts
      .publish({
        topic: topic.text,
        payload: Buffer.from(asText(tree.get(path)), 'utf8'),
        qos: listen.qos,
        retain: listen.retain,
      })
      .catch((err: unknown) => log.error('publishing a change failed', { path, topic: topic.text, err }))
  }

  return {
    name: `firebase-rtdb-listen:${root}`,
    start(ctx) {
      if (running) return
      const a = new AbortController()
      abort = a
      running = opts.client
        .stream(root, {
          signal: a.signal,
          idleTimeoutMs: opts.idleTimeoutMs,
          onOpen: () => {
            opts.health.up()
            log.info('streaming')
          },
          onChange,
        })
        .catch((err: unknown) => {
          if (a.signal.aborted) return
          opts.health.down((err as Error).message)
          ctx.fail(err)
        })
    },
    async stop() {
      abort?.abort()
      await running
      running = undefined
      abort = undefined
    },
  }
}
