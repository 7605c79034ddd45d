import { metricNameSchema } from './config.ts'
import { numericValue, parseTimestamp, type Reading } from './reading.ts'

export interface BodyProblem {
  path: string
  message: string
}

export type BodyReadings =
  | { ok: true; readings: Reading[]; ignored: string[] }
  | { ok: false; kind: 'value' | 'shape'; problems: BodyProblem[] }

type Json = Record<string, unknown>

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Readings in a sensor body (issue 4 point 5): an object, or an array of objects, where
 * - a number is a reading (`{"temperature": 21.5}`),
 * - an object with `value` is a reading whose value may be a numeric string, as source (d) sends
 *   them (`{"co": {"value": "26.20", "sensorid": "0005"}}`), with its own optional `ts`,
 * - `ts` (ISO 8601, epoch s or ms) times the readings of its object; otherwise `receivedAt`,
 * - anything else (`"gps": "37.6, 126.9"`, `"groupid": "2"`, `"iot_core": …`) is not a reading;
 *   it is listed in `ignored` and left to rules that read the whole body.
 * Every problem is collected, so a caller can refuse the whole body before storing any of it.
 * With `lenient`, what cannot be read is skipped instead (MQTT extraction with `metrics = "*"`).
 */
export function readingsFromBody(
  body: unknown,
  device: string,
  receivedAt: number,
  opts: { lenient?: boolean } = {},
): BodyReadings {
  const readings: Reading[] = []
  const ignored: string[] = []
  const problems: BodyProblem[] = []
  let kind: 'value' | 'shape' = 'value'
  const problem = (path: string, message: string, k: 'value' | 'shape') => {
    if (opts.lenient) return
    if (k === 'shape') kind = 'shape'
    problems.push({ path, message })
  }

  const element = (obj: unknown, prefix: string) => {
    if (!isObject(obj))
      return problem(prefix.replace(/\.$/, '') || '$', 'must be a JSON object of readings', 'shape')
    let ts = receivedAt
    if ('ts' in obj) {
      const parsed = parseTimestamp(obj.ts)
      if (parsed === undefined)
        problem(`${prefix}ts`, 'not an ISO 8601 time or epoch seconds/milliseconds', 'shape')
      else ts = parsed
    }
    for (const [key, v] of Object.entries(obj)) {
      if (key === 'ts') continue
      const path = prefix + key
      let value: number | undefined
      let at = ts
      if (typeof v === 'number') {
        value = numericValue(v)
        if (value === undefined) {
          problem(path, 'not a finite number', 'value')
          continue
        }
      } else if (isObject(v) && 'value' in v) {
        value = numericValue(v.value)
        if (value === undefined) {
          problem(`${path}.value`, 'not a number or numeric string', 'value')
          continue
        }
        if ('ts' in v) {
          const own = parseTimestamp(v.ts)
          if (own === undefined) {
            problem(`${path}.ts`, 'not an ISO 8601 time or epoch seconds/milliseconds', 'shape')
            continue
          }
          at = own
        }
      } else {
        ignored.push(path)
        continue
      }
      if (!metricNameSchema.safeParse(key).success) {
        problem(path, 'not a metric name (1-128 characters, no control characters, "/", "#" or "+")', 'shape')
        continue
      }
      readings.push({ device, metric: key, ts: at, value })
    }
  }

  if (Array.isArray(body)) {
    for (const [i, obj] of body.entries()) element(obj, `[${i}].`)
  } else element(body, '')
  return problems.length ? { ok: false, kind, problems } : { ok: true, readings, ignored }
}
