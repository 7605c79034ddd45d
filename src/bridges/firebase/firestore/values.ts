/**
 * Firestore's typed JSON values (REST `Value`) to plain JSON and back.
 * https://firebase.google.com/docs/firestore/reference/rest/v1/Value
 */

type FirestoreValue = Record<string, unknown>
export type FirestoreFields = Record<string, FirestoreValue>

/** A `Value` as plain JSON: integers as numbers, timestamps as their RFC 3339 text, references as paths. */
function decodeValue(v: FirestoreValue): unknown {
  if ('nullValue' in v) return null
  if ('booleanValue' in v) return v.booleanValue === true
  if ('integerValue' in v) return Number(v.integerValue)
  if ('doubleValue' in v) return Number(v.doubleValue)
  if ('stringValue' in v) return String(v.stringValue)
  if ('timestampValue' in v) return String(v.timestampValue)
  if ('bytesValue' in v) return String(v.bytesValue)
  if ('referenceValue' in v) return String(v.referenceValue)
  if ('geoPointValue' in v) return v.geoPointValue
  if ('arrayValue' in v) {
    const values = (v.arrayValue as { values?: FirestoreValue[] } | undefined)?.values ?? []
    return values.map(decodeValue)
  }
  if ('mapValue' in v) return decodeFields((v.mapValue as { fields?: FirestoreFields } | undefined)?.fields)
  return undefined
}

export function decodeFields(fields: FirestoreFields | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(fields ?? {})) out[k] = decodeValue(v)
  return out
}

/** Plain JSON as a `Value`: whole numbers become integers, as the Python and JS SDKs write them. */
function encodeValue(v: unknown): FirestoreValue {
  if (v === null || v === undefined) return { nullValue: null }
  if (typeof v === 'boolean') return { booleanValue: v }
  if (typeof v === 'number') return Number.isSafeInteger(v) ? { integerValue: String(v) } : { doubleValue: v }
  if (typeof v === 'string') return { stringValue: v }
  if (Array.isArray(v)) return { arrayValue: { values: v.map(encodeValue) } }
  if (typeof v === 'object') return { mapValue: { fields: encodeFields(v as Record<string, unknown>) } }
  return { stringValue: String(v) }
}

export function encodeFields(obj: Record<string, unknown>): FirestoreFields {
  const out: FirestoreFields = {}
  for (const [k, v] of Object.entries(obj)) out[k] = encodeValue(v)
  return out
}
