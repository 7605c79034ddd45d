import type { Database } from 'bun:sqlite'
import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import { pushActionSchema } from '../actions/push.ts'
import type { ActionRunner } from '../actions/runner.ts'
import type { Bus } from '../bus/bus.ts'
import type { MessageKind, SendResult } from '../bus/payloads.ts'
import type { Logger } from '../log.ts'
import type { Service } from '../runtime/service.ts'
import type { Delivery, InboxAck } from './delivery.ts'
import { groupExists, groupMembers, partitionDevices } from './groups.ts'
import {
  expireDue,
  insertMessage,
  markDelivered,
  markFailed,
  markSent,
  messageCounts,
  nextExpiry,
  owedTo,
  pruneMessages,
  setPushStatus,
} from './message-store.ts'
import type { InboxEnvelope } from './schema.ts'
import { createWakeup } from './wakeup.ts'

/** A message body may be any JSON value up to this size (it travels in one MQTT packet). */
export const MAX_MESSAGE_BYTES = 64 * 1024

/** Any JSON value but null (bodies reach here parsed from JSON), up to {@link MAX_MESSAGE_BYTES}. */
export const messageValueSchema = z
  .unknown()
  .refine((v) => v !== null && v !== undefined, 'a message is required')
  .refine(
    (v) => Buffer.byteLength(JSON.stringify(v) ?? '') <= MAX_MESSAGE_BYTES,
    `a message is at most ${MAX_MESSAGE_BYTES} bytes of JSON`,
  )

/** The notification to push to the recipients' phones too ("when asked"). */
export const pushOptionSchema = z.strictObject({
  title: z.string().min(1).max(200),
  body: z.string().max(2000),
})

/** Who a message is for. */
export type SendTarget =
  | { kind: 'unicast'; deviceId: string }
  | { kind: 'multicast'; devices: readonly string[] }
  | { kind: 'broadcast' }
  | { kind: 'group'; groupId: string }

interface SendOptions {
  message: unknown
  push?: z.infer<typeof pushOptionSchema> | undefined
  /** Milliseconds a recipient that is away may still get it; default `devices.messageTtl`. */
  ttl?: number | undefined
  /** The principal that sent it, recorded with the message. */
  by?: string | undefined
}

interface MessagingOptions {
  db: Database
  bus: Bus
  log: Logger
  delivery: Delivery
  actions: ActionRunner
  messageTtl: number
  messageRetention: number
  /** How often at most a message's progress is emitted while recipients are being reached. */
  progressEveryMs?: number
  now?: () => number
}

export interface Messaging extends Service {
  /** Sends a message; undefined when the target group does not exist. */
  send(target: SendTarget, opts: SendOptions): Promise<SendResult | undefined>
  /** Inbox readiness and PUBACKs from the broker side ({@link Delivery}). */
  ready(deviceId: string, resend: boolean): void
  ack(ack: InboxAck): void
  /** Expires what is due and prunes old messages now (it also runs on a timer). */
  sweep(): void
}

/**
 * Downstream messaging: a message and a status per recipient in SQLite, a QoS 1
 * publish to each inbox that listens now, the rest when their device comes back, until the
 * message expires. PUBACKs arrive in bursts (a broadcast), so they are recorded in batches and
 * progress events are coalesced.
 */
export function createMessaging(opts: MessagingOptions): Messaging {
  const { db, bus, delivery } = opts
  const log = opts.log.child('messaging')
  const now = opts.now ?? Date.now
  const progressEveryMs = opts.progressEveryMs ?? 100
  let acks: InboxAck[] = []
  let ackTimer: ReturnType<typeof setTimeout> | undefined
  const dirty = new Map<string, MessageKind>()
  const kinds = new Map<string, MessageKind>()
  let progressTimer: ReturnType<typeof setTimeout> | undefined
  let running = false

  const kindOf = (messageId: string): MessageKind | undefined => {
    const known = kinds.get(messageId)
    if (known) return known
    const row = db.query('SELECT kind FROM messages WHERE id = ?').get(messageId) as {
      kind: MessageKind
    } | null
    return row?.kind
  }

  const emitProgress = () => {
    progressTimer = undefined
    const batch = [...dirty]
    dirty.clear()
    for (const [messageId, kind] of batch) {
      const counts = messageCounts(db, messageId)
      const detail = { messageId, kind, ...counts }
      if (counts.queued === 0) {
        kinds.delete(messageId)
        bus.emit('message.completed', detail, { subject: messageId })
      } else bus.emit('message.progress', detail, { subject: messageId })
    }
  }

  const touched = (messageIds: Iterable<string>) => {
    for (const id of messageIds) {
      const kind = kindOf(id)
      if (kind) dirty.set(id, kind)
    }
    if (dirty.size && !progressTimer) progressTimer = setTimeout(emitProgress, progressEveryMs)
  }

  const flushAcks = () => {
    ackTimer = undefined
    const batch = acks
    acks = []
    if (batch.length) touched(markDelivered(db, batch))
  }

  // Expiry and pruning; returns when the next queued recipient expires.
  const settle = (): number | undefined => {
    const t = now()
    const expired = expireDue(db, t)
    if (expired.length)
      log.info('messages expired for devices that stayed away', { messages: expired.length })
    touched(expired)
    const pruned = pruneMessages(db, t - opts.messageRetention)
    if (pruned) log.info('pruned old messages', { pruned })
    return nextExpiry(db)
  }
  const wakeup = createWakeup(settle, now)

  const publish = async (deviceId: string, messageId: string, payload: Buffer) => {
    const err = await delivery.publish(deviceId, payload)
    if (!err) return
    log.warn('inbox publish failed', { deviceId, messageId, err })
    markFailed(db, messageId, deviceId, err.message)
    touched([messageId])
  }

  const recipientsOf = (target: SendTarget): { recipients: string[]; failed: string[] } | undefined => {
    switch (target.kind) {
      case 'unicast': {
        const { known, unknown } = partitionDevices(db, [target.deviceId])
        return { recipients: known, failed: unknown }
      }
      case 'multicast': {
        const { known, unknown } = partitionDevices(db, target.devices)
        return { recipients: known, failed: unknown }
      }
      case 'broadcast': {
        // Disabled devices cannot connect: they would only wait for the expiry.
        const rows = db.query('SELECT id FROM devices WHERE enabled = 1 ORDER BY id').all() as {
          id: string
        }[]
        return { recipients: rows.map((r) => r.id), failed: [] }
      }
      case 'group':
        if (!groupExists(db, target.groupId)) return undefined
        return { recipients: groupMembers(db, target.groupId), failed: [] }
    }
  }

  // The push bridge carries the notification to the phones registered for the
  // recipients; without it, each recipient's push status says it was not delivered.
  const push = async (
    messageId: string,
    target: SendTarget,
    recipients: string[],
    notification: NonNullable<SendOptions['push']>,
  ) => {
    if (recipients.length === 0) return
    const fail = (error: string) => setPushStatus(db, messageId, 'all', 'failed', error)
    if (!opts.actions.has('push')) return fail('no push bridge in this hub')
    const to = target.kind === 'group' ? { group: target.groupId } : { devices: recipients }
    const action = pushActionSchema.safeParse({ type: 'push', ...to, ...notification, data: { messageId } })
    if (!action.success) return fail(`push refused: ${action.error.issues[0]?.message ?? 'invalid'}`)
    const result = await opts.actions.run(action.data, {
      source: `message:${messageId}`,
      data: { messageId },
    })
    if (result.ok) setPushStatus(db, messageId, 'all', 'sent', null)
    else fail(result.error)
  }

  return {
    name: 'messaging',

    async send(target, o) {
      const who = recipientsOf(target)
      if (!who) return undefined
      const { recipients, failed } = who
      const messageId = randomUUID()
      const createdAt = now()
      const expiresAt = createdAt + (o.ttl ?? opts.messageTtl)
      const groupId = target.kind === 'group' ? target.groupId : null
      // messageId first and expiresAt last: delivery.ts reads both without parsing the message.
      const envelope: InboxEnvelope = {
        messageId,
        kind: target.kind,
        ...(groupId ? { groupId } : {}),
        message: o.message,
        sentAt: createdAt,
        expiresAt,
      }
      const payload = JSON.stringify(envelope)
      const listening = new Set(recipients.filter((id) => delivery.listening(id)))
      insertMessage(
        db,
        {
          id: messageId,
          kind: target.kind,
          groupId,
          payload,
          push: o.push ?? null,
          failedDevices: failed,
          createdBy: o.by ?? null,
          createdAt,
          expiresAt,
        },
        recipients,
        listening,
      )
      kinds.set(messageId, target.kind)
      const bytes = Buffer.from(payload)
      for (const id of listening) void publish(id, messageId, bytes)
      const result: SendResult = {
        messageId,
        kind: target.kind,
        groupId,
        recipientSize: recipients.length,
        sentSize: listening.size,
        failedDevices: failed,
        expiresAt,
      }
      log.debug('message sent', { messageId, kind: target.kind, recipients: recipients.length })
      bus.emit('message.sent', result, { subject: messageId })
      if (o.push) await push(messageId, target, recipients, o.push)
      wakeup.at(expiresAt)
      // Nobody to reach (an unknown unicast target, an empty group): complete at once.
      if (recipients.length === 0) touched([messageId])
      return result
    },

    ready(deviceId, resend) {
      if (!running) return
      const owed = owedTo(db, deviceId, now(), !resend)
      if (owed.length === 0) return
      markSent(
        db,
        deviceId,
        owed.map((o) => o.id),
        now(),
      )
      log.debug('sending what a device was owed', { deviceId, messages: owed.length })
      for (const o of owed) void publish(deviceId, o.id, Buffer.from(o.payload))
    },

    ack(a) {
      // After stop the row stays queued: the device gets the message again next time (at least once).
      if (!running) return
      acks.push(a)
      // One transaction per burst: a broadcast's PUBACKs arrive within milliseconds of each other.
      ackTimer ??= setTimeout(flushAcks, 5)
    },

    sweep: () => void settle(),

    start() {
      running = true
      // Messages that expired while the hub was down are settled first.
      wakeup.start()
    },

    stop() {
      if (!running) return
      // What arrived is recorded and reported before the database goes.
      if (ackTimer) clearTimeout(ackTimer)
      flushAcks()
      running = false
      wakeup.stop()
      if (progressTimer) clearTimeout(progressTimer)
      emitProgress()
    },
  }
}
