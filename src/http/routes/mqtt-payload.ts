import { z } from '@hono/zod-openapi'
import { bodyText } from '../../util/utf8.ts'

/** How a payload travels in JSON: as text, as base64 bytes, or as a JSON value to serialise. */
export const EncodingSchema = z.enum(['utf8', 'base64', 'json'])

/** A payload as JSON text when it is valid UTF-8, otherwise base64. */
export function describePayload(payload: Buffer | Uint8Array | string): {
  payload: string
  encoding: 'utf8' | 'base64'
} {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload)
  const text = bodyText(bytes)
  return text === undefined
    ? { payload: bytes.toString('base64'), encoding: 'base64' }
    : { payload: text, encoding: 'utf8' }
}

/** Whether a topic names one topic (no wildcards, no empty name, no NUL) [MQTT-4.7.3-1]. */
export function isTopicName(topic: string): boolean {
  return (
    topic.length > 0 &&
    !topic.includes('+') &&
    !topic.includes('#') &&
    !topic.includes('\0') &&
    Buffer.byteLength(topic) <= 65_535
  )
}

/** Whether a topic filter is well formed: `#` only last, `+` and `#` alone in their level [MQTT-4.7.1]. */
export function isTopicFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\0')) return false
  const levels = filter.split('/')
  return levels.every((l, i) =>
    l === '#' ? i === levels.length - 1 : l === '+' || (!l.includes('+') && !l.includes('#')),
  )
}
