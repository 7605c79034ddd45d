import type { Database } from 'bun:sqlite'
import { type Context, Hono } from 'hono'
import type { Bus } from '../../bus/bus.ts'
import { type CredentialCache, createCredentialCache } from '../../devices/credentials.ts'
import { type ErrorBody, Errors, type HubError } from '../../errors.ts'
import { type BodyProblemKind, readingsFromBody } from '../../telemetry/body.ts'
import type { TelemetryWriter } from '../../telemetry/writer.ts'
import { createDeviceAuthenticator } from '../auth/device.ts'

interface IngestDeps {
  db: Database
  bus: Bus
  writer: Pick<TelemetryWriter, 'write'>
  /** Shared with the broker's auth when given, so a device verified once is fast on both. */
  credentials?: CredentialCache
  now?: () => number
}

/** What `POST /ingest/:device` answers with 202. */
interface IngestResult {
  device: string
  stored: number
  /** Readings the series already had at that exact time (a repeated send), not stored twice. */
  duplicates: number
  readings: Array<{ metric: string; ts: number; value: number }>
  /** Body keys that are not readings (text, flags, objects without `value`). */
  ignored: string[]
}

const BODY_ERRORS: Record<BodyProblemKind, (details: unknown) => HubError> = {
  shape: Errors.invalid,
  time: Errors.readingTime,
  value: Errors.badReading,
}

const REALM = 'Basic realm="hearth ingest", charset="UTF-8"'

/**
 * `POST /ingest/:device`: sensor readings over HTTP, authenticated by the
 * device's own credentials (HTTP Basic, username = device id). The whole body is checked before
 * anything is stored, the readings go through the telemetry group commit, and the answer (202)
 * comes after the commit. Then one `ingest.received` event carries the whole parsed body for rules
 * that act on more than numbers (source (d)'s `iot_core` and `emergency` keys).
 */
export function createIngestRoutes(deps: IngestDeps): Hono {
  const now = deps.now ?? Date.now
  const authenticate = createDeviceAuthenticator({
    db: deps.db,
    credentials: deps.credentials ?? createCredentialCache(),
    now,
  })
  const router = new Hono()

  // Validates the whole body before storing any of it, answers after the commit.
  const store = async (c: Context, device: string) => {
    let body: unknown
    try {
      body = JSON.parse(await c.req.text())
    } catch {
      throw Errors.badJson()
    }
    const parsed = readingsFromBody(body, device, now())
    if (!parsed.ok) throw BODY_ERRORS[parsed.kind](parsed.problems)

    const { stored, storedCount } = await deps.writer.write(parsed.readings, 'http')
    const result: IngestResult = {
      device,
      stored: storedCount,
      duplicates: parsed.readings.length - storedCount,
      readings: parsed.readings
        .filter((_, i) => stored[i])
        .map(({ metric, ts, value }) => ({ metric, ts, value })),
      ignored: parsed.ignored,
    }
    deps.bus.emit(
      'ingest.received',
      { device, body, stored: storedCount, ignored: parsed.ignored },
      { subject: device },
    )
    return c.json(result, 202)
  }

  router.post('/:device', async (c) => {
    const device = c.req.param('device')
    const auth = await authenticate(c.req.header('authorization'), device)
    if ('error' in auth) {
      if (!auth.challenge) throw auth.error
      // RFC 7235 §3.1: a 401 names the scheme that would work.
      c.header('WWW-Authenticate', REALM)
      return c.json({ code: auth.error.code, error: auth.error.message } satisfies ErrorBody, 401)
    }
    return store(c, device)
  })
  return router
}
