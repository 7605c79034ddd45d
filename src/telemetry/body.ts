import { metricNameSchema } from './config.ts'
import { numericValue, parseTimestamp, type Reading, readingTimeInRange } from './reading.ts'

interface BodyProblem {
  path: string
  message: string
}

/** What is wrong with a refused body, the worst first: its shape, a reading time, a value. */
export type BodyProblemKind = 'shape' | 'time' | 'value'

type BodyReadings =
  | { ok: true; readings: Reading[]; ignored: string[] }
  | { ok: false; kind: BodyProblemKind; problems: BodyProblem[] }

const BAD_TIME = 'not an ISO 8601 time or epoch seconds/milliseconds'
const OUT_OF_RANGE = 'outside 2000-01-01 to one day past the hub clock'
const RANK: Record<BodyProblemKind, number> = { shape: 2, time: 1, value: 0 }

type Json = Record<string, unknown>

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Readings in a sensor body: an object, or an array of objects, where
 * - a number is a reading (`{"temperature": 21.5}`),
 * - an object with `value` is a reading whose value may be a numeric string, as source (d) sends
 *   them (`{"co": {"value": "26.20", "sensorid": "0005"}}`), with its own optional `ts`,
 * - `ts` (ISO 8601, epoch s or ms) times the readings of its object; otherwise `receivedAt`;
 *   a time outside [2000-01-01, now + 1 day] is refused (`now` defaults to `receivedAt`),
 * - anything else (`"gps": "37.6, 126.9"`, `"groupid": "2"`, `"iot_core": …`) is not a reading;
 *   it is listed in `ignored` and left to rules that read the whole body.
 * Every problem is collected, so a caller can refuse the whole body before storing any of it.
 * With `lenient`, what cannot be read is skipped instead (MQTT extraction with `metrics = "*"`).
 */
export function readingsFromBody(
  body: unknown,
  device: string,
  receivedAt: number,
  opts: { lenient?: boolean; now?: number } = {},
): BodyReadings {
  const now = opts.now ?? receivedAt
  const readings: Reading[] = []
  const ignored: string[] = []
  const problems: BodyProblem[] = []
  let kind: BodyProblemKind = 'value'
  const problem = (path: string, message: string, k: BodyProblemKind) => {
    if (opts.lenient) return
    if (RANK[k] > RANK[kind]) kind = k
    problems.push({ path, message })
  }
  // A time, or undefined after reporting why there is none.
  const timeAt = (path: string, v: unknown): number | undefined => {
    const ts = parseTimestamp(v)
    if (ts === undefined) problem(path, BAD_TIME, 'shape')
    else if (!readingTimeInRange(ts, now)) problem(path, OUT_OF_RANGE, 'time')
    else return ts
    return undefined
  }

  const element = (obj: unknown, prefix: string) => {
    if (!isObject(obj))
      return problem(prefix.replace(/\.$/, '') || '$', 'must be a JSON object of readings', 'shape')
    let ts = receivedAt
    if ('ts' in obj) ts = timeAt(`${prefix}ts`, obj.ts) ?? ts
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
          const own = timeAt(`${path}.ts`, v.ts)
          if (own === undefined) continue
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
