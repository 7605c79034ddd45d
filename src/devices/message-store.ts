import type { Database } from 'bun:sqlite'
import type { MessageCounts, MessageKind } from '../bus/payloads.ts'
import type { MessageView, RecipientStatus, RecipientView } from './schema.ts'

/** A message as stored: one row, plus a row per recipient. */
interface StoredMessage {
  id: string
  kind: MessageKind
  groupId: string | null
  /** The exact inbox payload (an InboxEnvelope as JSON). */
  payload: string
  push: { title: string; body: string } | null
  failedDevices: string[]
  createdBy: string | null
  createdAt: number
  expiresAt: number
}

interface MessageRow {
  id: string
  kind: MessageKind
  group_id: string | null
  payload: string
  push: string | null
  failed_devices: string
  created_by: string | null
  created_at: number
  expires_at: number
}

interface RecipientRow {
  device_id: string
  status: RecipientStatus
  sent_at: number | null
  attempts: number
  delivered_at: number | null
  error: string | null
  push_status: 'sent' | 'failed' | null
  push_error: string | null
}

const toMessage = (r: MessageRow): StoredMessage => ({
  id: r.id,
  kind: r.kind,
  groupId: r.group_id,
  payload: r.payload,
  push: r.push ? JSON.parse(r.push) : null,
  failedDevices: JSON.parse(r.failed_devices),
  createdBy: r.created_by,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
})

const toRecipient = (r: RecipientRow): RecipientView => ({
  deviceId: r.device_id,
  status: r.status,
  sentAt: r.sent_at,
  attempts: r.attempts,
  deliveredAt: r.delivered_at,
  error: r.error,
  push: r.push_status ? { status: r.push_status, error: r.push_error } : null,
})

/**
 * Stores a message and its recipients in one transaction; those in `sendingNow` are recorded as
 * sent (attempt 1) before the publish, so a PUBACK can never arrive for a row not yet written.
 */
export function insertMessage(
  db: Database,
  m: StoredMessage,
  recipients: readonly string[],
  sendingNow: ReadonlySet<string>,
): void {
  db.transaction(() => {
    db.query(
      `INSERT INTO messages (id, kind, group_id, payload, push, failed_devices, created_by, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      m.id,
      m.kind,
      m.groupId,
      m.payload,
      m.push ? JSON.stringify(m.push) : null,
      JSON.stringify(m.failedDevices),
      m.createdBy,
      m.createdAt,
      m.expiresAt,
    )
    const insert = db.query(
      `INSERT INTO message_recipients (message_id, device_id, status, sent_at, attempts)
       VALUES (?, ?, 'queued', ?, ?)`,
    )
    for (const id of recipients) {
      const now = sendingNow.has(id)
      insert.run(m.id, id, now ? m.createdAt : null, now ? 1 : 0)
    }
  })()
}

function getStoredMessage(db: Database, id: string): StoredMessage | undefined {
  const row = db.query('SELECT * FROM messages WHERE id = ?').get(id) as MessageRow | null
  return row ? toMessage(row) : undefined
}

export function messageCounts(db: Database, id: string): MessageCounts {
  const counts: MessageCounts = { queued: 0, delivered: 0, expired: 0, failed: 0 }
  const rows = db
    .query('SELECT status, count(*) AS n FROM message_recipients WHERE message_id = ? GROUP BY status')
    .all(id) as { status: RecipientStatus; n: number }[]
  for (const r of rows) counts[r.status] = r.n
  return counts
}

/** A message with its counts and one page of recipients (by device id). */
export function viewMessage(
  db: Database,
  id: string,
  page: { status?: RecipientStatus | undefined; after?: string | undefined; limit: number },
): MessageView | undefined {
  const m = getStoredMessage(db, id)
  if (!m) return undefined
  const rows = db
    .query(
      `SELECT device_id, status, sent_at, attempts, delivered_at, error, push_status, push_error
       FROM message_recipients
       WHERE message_id = ?1 AND (?2 IS NULL OR status = ?2) AND device_id > ?3
       ORDER BY device_id LIMIT ?4`,
    )
    .all(id, page.status ?? null, page.after ?? '', page.limit + 1) as RecipientRow[]
  const more = rows.length > page.limit
  const recipients = rows.slice(0, page.limit).map(toRecipient)
  const envelope = JSON.parse(m.payload) as { message: unknown }
  return {
    messageId: m.id,
    kind: m.kind,
    groupId: m.groupId,
    message: envelope.message,
    push: m.push,
    failedDevices: m.failedDevices,
    createdBy: m.createdBy,
    createdAt: m.createdAt,
    expiresAt: m.expiresAt,
    ...messageCounts(db, id),
    recipients,
    ...(more ? { nextCursor: recipients.at(-1)!.deviceId } : {}),
  }
}

/** The newest messages first, with their counts. */
export function listMessages(
  db: Database,
  q: { before?: number | undefined; limit: number },
): Array<Omit<MessageView, 'recipients' | 'nextCursor'>> {
  const rows = db
    .query('SELECT * FROM messages WHERE created_at < ? ORDER BY created_at DESC, id LIMIT ?')
    .all(q.before ?? Number.MAX_SAFE_INTEGER, q.limit) as MessageRow[]
  return rows.map((r) => {
    const m = toMessage(r)
    const { message } = JSON.parse(m.payload) as { message: unknown }
    return {
      messageId: m.id,
      kind: m.kind,
      groupId: m.groupId,
      message,
      push: m.push,
      failedDevices: m.failedDevices,
      createdBy: m.createdBy,
      createdAt: m.createdAt,
      expiresAt: m.expiresAt,
      ...messageCounts(db, m.id),
    }
  })
}

/** Unexpired messages a device is still owed, oldest first; `onlyUnsent` skips those already published to it. */
export function owedTo(
  db: Database,
  deviceId: string,
  now: number,
  onlyUnsent: boolean,
): Array<{ id: string; payload: string }> {
  return db
    .query(
      `SELECT m.id, m.payload FROM message_recipients r JOIN messages m ON m.id = r.message_id
       WHERE r.device_id = ?1 AND r.status = 'queued' AND m.expires_at > ?2 AND (?3 = 0 OR r.sent_at IS NULL)
       ORDER BY m.created_at, m.id`,
    )
    .all(deviceId, now, onlyUnsent ? 1 : 0) as Array<{ id: string; payload: string }>
}

export function markSent(db: Database, deviceId: string, messageIds: readonly string[], now: number): void {
  db.query(
    `UPDATE message_recipients SET sent_at = ?, attempts = attempts + 1
     WHERE device_id = ? AND message_id IN (SELECT value FROM json_each(?))`,
  ).run(now, deviceId, JSON.stringify(messageIds))
}

/**
 * Records PUBACKs in one transaction; returns the messages that changed. An expired row may still
 * turn delivered: the PUBACK proves the device had it.
 */
export function markDelivered(
  db: Database,
  acks: ReadonlyArray<{ messageId: string; deviceId: string; at: number }>,
): Set<string> {
  const changed = new Set<string>()
  const update = db.query(
    `UPDATE message_recipients SET status = 'delivered', delivered_at = ?, error = NULL
     WHERE message_id = ? AND device_id = ? AND status IN ('queued', 'expired')`,
  )
  db.transaction(() => {
    for (const a of acks) if (update.run(a.at, a.messageId, a.deviceId).changes) changed.add(a.messageId)
  })()
  return changed
}

export function markFailed(db: Database, messageId: string, deviceId: string, error: string): void {
  db.query(
    `UPDATE message_recipients SET status = 'failed', error = ? WHERE message_id = ? AND device_id = ? AND status = 'queued'`,
  ).run(error, messageId, deviceId)
}

export function setPushStatus(
  db: Database,
  messageId: string,
  deviceIds: readonly string[] | 'all',
  status: 'sent' | 'failed',
  error: string | null,
): void {
  if (deviceIds === 'all') {
    db.query('UPDATE message_recipients SET push_status = ?, push_error = ? WHERE message_id = ?').run(
      status,
      error,
      messageId,
    )
    return
  }
  db.query(
    `UPDATE message_recipients SET push_status = ?, push_error = ?
     WHERE message_id = ? AND device_id IN (SELECT value FROM json_each(?))`,
  ).run(status, error, messageId, JSON.stringify(deviceIds))
}

/** Marks still-queued recipients of expired messages as expired; returns the messages affected. */
export function expireDue(db: Database, now: number): string[] {
  const rows = db
    .query(
      `UPDATE message_recipients SET status = 'expired'
       WHERE status = 'queued' AND message_id IN (SELECT id FROM messages WHERE expires_at <= ?)
       RETURNING message_id`,
    )
    .all(now) as { message_id: string }[]
  return [...new Set(rows.map((r) => r.message_id))]
}

/** The next time a queued recipient expires, if any. */
export function nextExpiry(db: Database): number | undefined {
  const row = db
    .query(
      `SELECT m.expires_at AS at FROM messages m
       WHERE EXISTS (SELECT 1 FROM message_recipients r WHERE r.message_id = m.id AND r.status = 'queued')
       ORDER BY m.expires_at LIMIT 1`,
    )
    .get() as { at: number } | null
  return row?.at
}

/** Deletes messages that expired before `before` (their recipients go with them). */
export function pruneMessages(db: Database, before: number): number {
  return db.query('DELETE FROM messages WHERE expires_at < ?').run(before).changes
}
