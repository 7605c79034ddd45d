import type { Database } from 'bun:sqlite'
import type { Bus } from '../../bus/bus.ts'
import type { Logger } from '../../log.ts'
import { type DeliveryOutcome, type OutboxEntry, Outcome } from '../../outbox/types.ts'
import type { FcmClient, SendResult } from './client.ts'
import { type Platform, type PushMessage, v1Body } from './message.ts'
import {
  batchProgress,
  clearProgress,
  getPause,
  pauseTarget,
  recordProgress,
  type TokenFinal,
} from './progress.ts'
import { platformsOf, pushTokenId, recordPushResults, removePushTokens } from './tokens.ts'

/** What the outbox keeps for one batch: at most 500 tokens of one push. */
export interface PushBatch {
  /** The push target's key (`all`, `label:beta`, …), also the outbox target. */
  target: string
  source: string
  message: PushMessage
  /** Token and its platform when registered (null: given by hand). */
  recipients: Array<[string, Platform | null]>
}

/** A batch this big or bigger with more than half its tokens dead pauses its target instead of pruning. */
const MASS_DEATH_MIN_BATCH = 20

interface BatchDeps {
  db: Database
  bus: Bus
  log: Logger
  client: FcmClient
  now: () => number
  onResult?: (status: string) => void
}

/**
 * One attempt at a batch: one v1 request per token not yet final (the client bounds how many run
 * at once), a `push.result` per token, results on the registry. The batch is retried through the
 * outbox while any token may still pass (honouring FCM's Retry-After); once every token is final,
 * dead tokens are pruned, unless more than half of a batch of 20 or more died: then nothing is
 * pruned, the target is paused and an alert raised, since that smells of a wrong project or key
 * rather than of that many uninstalled apps.
 */
export async function deliverBatch(
  deps: BatchDeps,
  entry: OutboxEntry,
  signal: AbortSignal,
): Promise<DeliveryOutcome> {
  const { db, bus, now } = deps
  const batch = entry.payload as PushBatch
  if (!batch || !Array.isArray(batch.recipients)) return Outcome.badRequest('stored push batch is malformed')
  const pause = getPause(db, batch.target)
  if (pause) {
    clearProgress(db, entry.key)
    return Outcome.dead(`push target ${batch.target} is paused: ${pause.reason}`)
  }

  const done = batchProgress(db, entry.key)
  const todo = batch.recipients.filter(([token]) => !done.has(token))
  // A registered token pruned or deleted since the batch was queued is not sent to any more.
  const registered = platformsOf(
    db,
    todo.filter(([, p]) => p !== null).map(([t]) => t),
  )
  const finals: TokenFinal[] = []
  const retries: Array<Extract<SendResult, { status: 'retry' }>> = []
  const registry: Array<{ token: string; ok: boolean; error?: string }> = []
  const emit = (token: string, platform: Platform | null, r: SendResult | { status: 'skipped' }) => {
    deps.onResult?.(r.status === 'ok' ? 'sent' : r.status === 'bad-request' ? 'failed' : r.status)
    bus.emit(
      'push.result',
      {
        target: batch.target,
        batch: entry.key,
        token: pushTokenId(token),
        platform,
        status: r.status === 'ok' ? 'sent' : r.status === 'bad-request' ? 'failed' : r.status,
        ...(r.status === 'ok' ? { messageId: r.messageId } : {}),
        ...('reason' in r ? { error: r.reason } : {}),
        ...('errorCode' in r && r.errorCode ? { errorCode: r.errorCode } : {}),
      },
      { subject: batch.target },
    )
  }

  await Promise.all(
    todo.map(async ([token, known]) => {
      const platform = known === null ? null : (registered.get(token) ?? undefined)
      if (platform === undefined) {
        finals.push({ token, status: 'skipped' })
        emit(token, known, { status: 'skipped' })
        return
      }
      const r = await deps.client.send(v1Body(token, platform, batch.message), signal)
      if (signal.aborted) return
      emit(token, platform, r)
      switch (r.status) {
        case 'ok':
          finals.push({ token, status: 'sent' })
          registry.push({ token, ok: true })
          return
        case 'dead':
          finals.push({ token, status: 'dead', error: r.reason })
          registry.push({ token, ok: false, error: r.reason })
          return
        case 'bad-request':
          finals.push({ token, status: 'failed', error: r.reason })
          registry.push({ token, ok: false, error: r.reason })
          return
        case 'retry':
          retries.push(r)
      }
    }),
  )
  const t = now()
  recordPushResults(db, registry, t)
  recordProgress(db, entry.key, finals, t)
  if (signal.aborted) return Outcome.retryLater('the hub is stopping')

  if (retries.length) {
    const retryAfterMs = Math.max(-1, ...retries.map((r) => r.retryAfterMs ?? -1))
    const first = retries[0]!
    return Outcome.retryLater(
      `${retries.length} of ${batch.recipients.length} tokens to retry: ${first.reason}`,
      {
        ...(retryAfterMs >= 0 ? { retryAfterMs } : {}),
        ...(first.httpStatus ? { httpStatus: first.httpStatus } : {}),
      },
    )
  }
  return finish(deps, entry, batch)
}

// Every token of the batch has its final result: prune or pause, summarise, forget the progress.
function finish(deps: BatchDeps, entry: OutboxEntry, batch: PushBatch): DeliveryOutcome {
  const { db, bus, log, now } = deps
  const all = [...batchProgress(db, entry.key).values()]
  const count = (s: TokenFinal['status']) => all.filter((r) => r.status === s).length
  const dead = all.filter((r) => r.status === 'dead')
  const size = batch.recipients.length
  let pruned = 0
  if (size >= MASS_DEATH_MIN_BATCH && dead.length * 2 > size) {
    const reason = `${dead.length} of ${size} tokens in one batch came back dead; nothing was pruned`
    if (pauseTarget(db, batch.target, reason, now())) {
      log.error('push target paused', { target: batch.target, dead: dead.length, size })
      bus.emit(
        'push.paused',
        { target: batch.target, batch: entry.key, size, dead: dead.length, reason },
        {
          subject: batch.target,
        },
      )
      bus.emit('alert', {
        source: 'push',
        severity: 'critical',
        message: `push target ${batch.target} paused: ${reason}. Check push.serviceAccount and push.projectId, then resume it.`,
      })
    }
  } else if (dead.length) {
    const ids = new Set(
      removePushTokens(
        db,
        dead.map((d) => d.token),
      ),
    )
    for (const d of dead) {
      const id = pushTokenId(d.token)
      if (!ids.has(id)) continue
      pruned++
      const reason = d.error?.startsWith('UNREGISTERED') ? 'unregistered' : 'invalid'
      bus.emit('push.token_removed', { id, reason }, { subject: id })
    }
    if (pruned) log.info('pruned dead push tokens', { target: batch.target, pruned })
  }
  bus.emit(
    'push.batch',
    {
      target: batch.target,
      batch: entry.key,
      source: batch.source,
      size,
      sent: count('sent'),
      dead: dead.length,
      failed: count('failed'),
      skipped: count('skipped'),
      pruned,
      attempts: entry.attempts,
    },
    { subject: batch.target },
  )
  clearProgress(db, entry.key)
  const failed = all.filter((r) => r.status === 'failed')
  // Every token refused the same way: the message or the configuration is wrong; keep it as a
  // dead letter that can be replayed once fixed.
  if (failed.length && failed.length === size) return Outcome.badRequest(failed[0]!.error ?? 'refused')
  return Outcome.ok()
}
