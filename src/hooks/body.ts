import { Errors } from '../http/errors.ts'

/** How a delivery body is understood, by its Content-Type. */
export type BodyKind = 'json' | 'text' | 'form' | 'binary'

/** A delivery body: the raw bytes always, and a structured value when it has one. */
export interface DeliveryBody {
  kind: BodyKind
  raw: Uint8Array
  /** JSON value, or the form's fields; undefined for text and binary bodies. */
  value: unknown
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

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Parses a body of an accepted kind. Invalid JSON throws `badJson` (40001). A form whose only
 * field is `payload` holding JSON (GitHub's form content type, Slack interactions) is that JSON.
 */
export function parseBody(kind: BodyKind, raw: Uint8Array): DeliveryBody {
  if (kind === 'json') {
    try {
      return { kind, raw, value: JSON.parse(utf8.decode(raw)) }
    } catch {
      throw Errors.badJson()
    }
  }
  if (kind === 'form') {
    const fields = Object.fromEntries(new URLSearchParams(Buffer.from(raw).toString('utf8')))
    const keys = Object.keys(fields)
    if (keys.length === 1 && keys[0] === 'payload') {
      try {
        return { kind, raw, value: JSON.parse(fields.payload!) }
      } catch {
        // Not JSON: keep it as an ordinary form field.
      }
    }
    return { kind, raw, value: fields }
  }
  return { kind, raw, value: undefined }
}

/** The body as text when it is valid UTF-8. */
export function bodyText(raw: Uint8Array): string | undefined {
  try {
    return utf8.decode(raw)
  } catch {
    return undefined
  }
}
