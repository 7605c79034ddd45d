import type { PushAction } from '../../actions/push.ts'
import type { ActionExecutor } from '../../actions/runner.ts'
import { render } from '../../actions/template.ts'
import { ReasonError } from '../../errors.ts'
import type { Outbox } from '../../outbox/outbox.ts'
import { type DeliveryHandler, Outcome } from '../../outbox/types.ts'
import type { CoreDeps } from '../../runtime/deps.ts'
import type { OutboxBridge } from '../outbox-action.ts'
import { deliverBatch, type PushBatch } from './batch.ts'
import type { FcmClient } from './client.ts'
import type { PushConfig } from './config.ts'
import type { PushMessage } from './message.ts'
import { getPause, listPauses, type PushPause, pruneProgress, resumeTarget } from './progress.ts'
import { type PushTarget, resolveRecipients, targetKey } from './targets.ts'

/** Why a push was refused before anything was queued; the API maps `reason` to its status. */
export class PushRefused extends ReasonError<'not-configured' | 'paused' | 'not-found'> {
  override name = 'PushRefused'
}

/** The outbox kind of push batches. */
export const FCM_KIND = 'fcm'

/** Push events too frequent to keep in the event log (one per token per attempt); consoles still see them. */
export const PUSH_TRANSIENT_EVENTS = ['push.result'] as const

export interface PushOptions extends CoreDeps {
  outbox: Pick<Outbox, 'enqueue' | 'register'>
  config: Pick<PushConfig, 'batchSize' | 'batchesPerTarget'>
  /** Absent when no service account is configured: the registry works, sending does not. */
  client: FcmClient | undefined
  /** Called with each send result, for `/metrics`. */
  onResult?: (status: string) => void
}

/** FCM push: the `push` action, the outbox handler of its batches, paused targets. */
export interface Push extends OutboxBridge<PushAction> {
  pauses(): PushPause[]
  /** Lets a paused target send again; its batches refused while paused are dead letters to replay. */
  resume(target: string): boolean
  /** Takes a new FCM client and batching (a config reload); the next batches use them. */
  reconfigure(client: FcmClient | undefined, config: PushOptions['config']): void
}

// Progress of a batch the outbox gave up on is kept this long for a person to look at.
const PROGRESS_KEEP_MS = 7 * 86_400_000

export function createPush(opts: PushOptions): Push {
  const { db, bus } = opts
  const log = opts.log.child('push')
  const now = opts.now ?? Date.now
  let client = opts.client
  let config = opts.config

  const executor: ActionExecutor<PushAction> = async (action, ctx) => {
    if (!client) throw new PushRefused('not-configured', 'push is not configured (push.serviceAccount)')
    const data = ctx.data ?? {}
    const target = targetOf(action, data)
    const key = targetKey(target)
    const pause = getPause(db, key)
    if (pause)
      throw new PushRefused(
        'paused',
        `push target ${key} is paused: ${pause.reason} (DELETE /api/v1/push/pauses/${key} resumes it)`,
      )
    const recipients = resolveRecipients(db, target)
    if (!recipients)
      throw new PushRefused('not-found', `no device group ${(target as { group: string }).group}`)
    const message = messageOf(action, data)
    const ids: Array<Promise<number>> = []
    // A batch's `push.result` and `push.batch` events name it by its key; the console follows a test push so.
    const batchKeys: string[] = []
    const { batchSize } = config
    for (let i = 0; i < recipients.length; i += batchSize) {
      const batch: PushBatch = {
        target: key,
        source: ctx.source,
        message,
        recipients: recipients.slice(i, i + batchSize).map((r) => [r.token, r.platform]),
      }
      const batchKey = crypto.randomUUID()
      batchKeys.push(batchKey)
      ids.push(opts.outbox.enqueue({ kind: FCM_KIND, target: key, key: batchKey, payload: batch }))
    }
    // Enqueued in one tick, so every batch of this push is committed in one transaction.
    const outboxIds = await Promise.all(ids)
    log.debug('push queued', { target: key, tokens: recipients.length, batches: outboxIds.length })
    return { target: key, tokens: recipients.length, batches: outboxIds.length, outboxIds, batchKeys }
  }

  const handler: DeliveryHandler = {
    concurrency: () => config.batchesPerTarget,
    async deliver(entry, signal) {
      if (!client) return Outcome.badRequest('push is not configured (push.serviceAccount)')
      return deliverBatch(
        { db, bus, log, client, now, ...(opts.onResult ? { onResult: opts.onResult } : {}) },
        entry,
        signal,
      )
    },
  }

  return {
    name: 'push',
    get enabled() {
      return client !== undefined
    },
    reconfigure(next, nextConfig) {
      client = next
      config = nextConfig
    },
    executor,
    handler,
    pauses: () => listPauses(db),
    resume(target) {
      const resumed = resumeTarget(db, target)
      if (resumed) {
        log.info('push target resumed', { target })
        bus.emit('push.resumed', { target }, { subject: target })
      }
      return resumed
    },
    start() {
      opts.outbox.register(FCM_KIND, handler)
      const pruned = pruneProgress(db, now() - PROGRESS_KEEP_MS)
      if (pruned) log.info('dropped progress of abandoned push batches', { rows: pruned })
    },
    stop() {},
  }
}

function targetOf(a: PushAction, data: Record<string, unknown>): PushTarget {
  if (a.token !== undefined) return { kind: 'token', token: a.token }
  if (a.tokens !== undefined) return { kind: 'tokens', tokens: a.tokens }
  if (a.device !== undefined) {
    const device = render(a.device, data).text
    if (!device) throw new Error(`the device template ${a.device} rendered empty`)
    return { kind: 'device', device }
  }
  if (a.devices !== undefined) return { kind: 'devices', devices: a.devices }
  if (a.label !== undefined) return { kind: 'label', label: a.label }
  if (a.group !== undefined) return { kind: 'group', group: a.group }
  return { kind: 'all' }
}

/** The action's template with its placeholders filled from the run's data. */
function messageOf(a: PushAction, data: Record<string, unknown>): PushMessage {
  const text = (t: string | undefined) => (t === undefined ? undefined : render(t, data).text)
  const values = Object.fromEntries(Object.entries(a.data).map(([k, v]) => [k, render(v, data).text]))
  const optional = {
    threadId: a.silent ? undefined : a.threadId,
    collapseKey: a.collapseKey,
    channel: a.silent ? undefined : a.channel,
    tag: a.silent ? undefined : a.tag,
    title: a.silent ? undefined : text(a.title),
    body: a.silent ? undefined : text(a.body),
  }
  return {
    kind: a.silent ? 'silent' : 'notification',
    data: values,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  }
}
