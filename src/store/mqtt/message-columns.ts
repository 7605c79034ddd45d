import type { Message, MessageProperties, QoS } from '../../mqtt/types.ts'

/**
 * A message as the broker store's tables hold it (migration 015): the payload as a BLOB, the
 * MQTT 5 properties as JSON with the correlation data apart as bytes, the expiry absolute.
 */
export type MessageColumns = [
  topic: string,
  payload: Uint8Array,
  qos: number,
  retain: number,
  properties: string | null,
  correlationData: Uint8Array | null,
  expiresAt: number | null,
]

/** A row's message columns as bun:sqlite returns them. */
export interface MessageRow {
  topic: string
  payload: Uint8Array
  qos: number
  retain: number
  properties: string | null
  correlation_data: Uint8Array | null
  expires_at: number | null
}

/** The column list of MessageColumns, for statements. */
export const MESSAGE_COLUMNS = 'topic, payload, qos, retain, properties, correlation_data, expires_at'

// Every property but the correlation data, in the order they are written (keys with no value left out).
const JSON_KEYS = ['payloadFormatIndicator', 'contentType', 'responseTopic', 'userProperties'] as const

export function messageColumns(message: Message): MessageColumns {
  const p = message.properties
  return [
    message.topic,
    message.payload,
    message.qos,
    message.retain ? 1 : 0,
    p ? propertiesJson(p) : null,
    p?.correlationData ?? null,
    message.expiresAt ?? null,
  ]
}

function propertiesJson(p: MessageProperties): string | null {
  let out: Record<string, unknown> | undefined
  for (const key of JSON_KEYS) {
    const value = p[key]
    if (value === undefined) continue
    out ??= {}
    out[key] = value
  }
  // userProperties is an array of pairs: JSON keeps their order and duplicates [MQTT-3.3.2-18].
  return out ? JSON.stringify(out) : null
}

/** The message a row holds; optional fields are absent (not undefined) when not stored. */
export function rowMessage(row: MessageRow): Message {
  const message: Message = {
    topic: row.topic,
    payload: asBuffer(row.payload),
    qos: row.qos as QoS,
    retain: row.retain === 1,
  }
  if (row.properties !== null || row.correlation_data !== null) {
    const properties: MessageProperties = row.properties === null ? {} : JSON.parse(row.properties)
    if (row.correlation_data !== null) properties.correlationData = asBuffer(row.correlation_data)
    message.properties = properties
  }
  if (row.expires_at !== null) message.expiresAt = row.expires_at
  return message
}

/** SQLite hands BLOBs back as Uint8Array; the engine works with Buffers (same memory, no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
