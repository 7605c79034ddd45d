import { Errors } from '../errors.ts'
import { bodyText } from '../util/utf8.ts'

/** How a delivery body is understood, by its Content-Type. */
export type BodyKind = 'json' | 'text' | 'form' | 'binary'

/** A delivery body: the raw bytes always, and a structured value when it has one. */
export interface DeliveryBody {
  /** How the body was read: `json` also for a body of another declared type that is JSON. */
  kind: BodyKind
  raw: Uint8Array
  /** JSON value, or the form's fields; undefined for text and binary bodies. */
  value: unknown
  /** The Content-Type the sender declared ('' for none), named in mapping errors. */
  contentType: string
}

/** The kind for a Content-Type, or undefined when hooks do not accept it (415). */
export function bodyKind(contentType: string | undefined | null): BodyKind | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  if (type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json')))
    return 'json'
  if (type.startsWith('text/')) return 'text'
  if (type === 'application/x-www-form-urlencoded') return 'form'
  if (type === 'application/octet-stream') return 'binary'
  return undefined
}

/**
 * Parses a body of an accepted kind. Invalid JSON throws `badJson` (40001). A form or text body
 * that is a JSON object or array is read as JSON: `curl -d '{"message":"on"}'` declares a form,
 * and many scripts declare nothing or `text/plain`. A form whose only field is `payload` holding
 * JSON (GitHub's form content type, Slack interactions) is that JSON.
 */
export function parseBody(kind: BodyKind, raw: Uint8Array, contentType = ''): DeliveryBody {
  if (kind === 'json') {
    const text = bodyText(raw)
    try {
      if (text !== undefined) return { kind, raw, value: JSON.parse(text), contentType }
    } catch {
      // reported below, as bytes that are not UTF-8 are
    }
    throw Errors.badJson()
  }
  if (kind === 'binary') return { kind, raw, value: undefined, contentType }
  const json = jsonContainer(raw)
  if (json !== undefined) return { kind: 'json', raw, value: json, contentType }
  if (kind === 'form') {
    const fields = Object.fromEntries(new URLSearchParams(Buffer.from(raw).toString('utf8')))
    const keys = Object.keys(fields)
    if (keys.length === 1 && keys[0] === 'payload') {
      try {
        return { kind, raw, value: JSON.parse(fields.payload!), contentType }
      } catch {
        // Not JSON: keep it as an ordinary form field.
      }
    }
    return { kind, raw, value: fields, contentType }
  }
  return { kind, raw, value: undefined, contentType }
}

// Only an object or array counts: a text body such as `42` or `true` stays the text it was sent as.
function jsonContainer(raw: Uint8Array): object | undefined {
  const first = raw.find((b) => b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d)
  if (first !== 0x7b && first !== 0x5b) return undefined
  const text = bodyText(raw)
  if (text === undefined) return undefined
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null ? value : undefined
  } catch {
    return undefined
  }
}

/** How a body was read, for error messages: `JSON (Content-Type application/x-www-form-urlencoded)`. */
export function describeBody(body: DeliveryBody): string {
  const read = { json: 'JSON', form: 'form fields', text: 'text', binary: 'bytes' }[body.kind]
  return `${read} (Content-Type ${body.contentType || 'none'})`
}
