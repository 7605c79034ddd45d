import type { Database } from 'bun:sqlite'
import { type Context, Hono } from 'hono'
import type { Bus } from '../../bus/bus.ts'
import { type CredentialCache, createCredentialCache } from '../../devices/credentials.ts'
import { deviceIdSchema, findDeviceSecret, getDevice } from '../../devices/registry.ts'
import type { ErrorBody } from '../../protocol.ts'
import { findTokenBySecret, touchToken } from '../../store/tokens.ts'
import { readingsFromBody } from '../../telemetry/body.ts'
import type { TelemetryWriter } from '../../telemetry/writer.ts'
import { Errors, type HubError } from '../errors.ts'

export interface IngestDeps {
  db: Database
  bus: Bus
  writer: Pick<TelemetryWriter, 'write'>
  /** Shared with the broker's auth when given, so a device verified once is fast on both. */
  credentials?: CredentialCache
  now?: () => number
}

/** What `POST /ingest/:device` answers with 202. */
export interface IngestResult {
  device: string
  stored: number
  /** Readings the series already had at that exact time (a repeated send), not stored twice. */
  duplicates: number
  readings: Array<{ metric: string; ts: number; value: number }>
  /** Body keys that are not readings (text, flags, objects without `value`). */
  ignored: string[]
}

const REALM = 'Basic realm="hearth ingest", charset="UTF-8"'

/**
 * `POST /ingest/:device` (issue 4 point 5): sensor readings over HTTP, authenticated by the
 * device's own credentials (HTTP Basic, username = device id). The whole body is checked before
 * anything is stored, the readings go through the telemetry group commit, and the answer (202)
 * comes after the commit. Then one `ingest.received` event carries the whole parsed body for rules
 * that act on more than numbers (source (d)'s `iot_core` and `emergency` keys).
 */
export function createIngestRoutes(deps: IngestDeps): Hono {
  const now = deps.now ?? Date.now
  const credentials = deps.credentials ?? createCredentialCache()
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
    if (!parsed.ok)
      throw parsed.kind === 'value' ? Errors.badReading(parsed.problems) : Errors.invalid(parsed.problems)

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
    const authorization = c.req.header('authorization')
    const bearer = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined
    if (bearer !== undefined) {
      // A device-scoped API token (`hearth token create --device <id>`) stands for that device only.
      const token = findTokenBySecret(deps.db, bearer)
      if (!token) throw Errors.unauthenticated()
      if (token.device !== device) throw Errors.forbidden()
      touchToken(deps.db, token, now())
      if (!getDevice(deps.db, device)?.enabled) throw Errors.forbidden()
      return store(c, device)
    }
    const basic = parseBasic(authorization)
    if (!basic) return challenge(c, Errors.unauthenticated())
    if (!deviceIdSchema.safeParse(device).success) throw Errors.notFound('device')
    // The path names the device; the credentials must be that device's own.
    if (basic.username !== device) throw Errors.forbidden()
    const secret = findDeviceSecret(deps.db, device)
    if (!secret || secret.id !== device) throw Errors.notFound('device')
    if (!(await credentials.verify(secret.id, basic.password, secret.passwordHash))) {
      return challenge(c, Errors.badCredentials())
    }
    if (!secret.enabled) throw Errors.forbidden()

    return store(c, device)
  })
  return router
}

function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  const m = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null
  if (!m?.[1]) return undefined
  const text = Buffer.from(m[1], 'base64').toString('utf8')
  const colon = text.indexOf(':')
  return colon < 0 ? undefined : { username: text.slice(0, colon), password: text.slice(colon + 1) }
}

// RFC 7235 §3.1: a 401 names the scheme that would work.
function challenge(c: Context, err: HubError) {
  c.header('WWW-Authenticate', REALM)
  return c.json({ code: err.code, error: err.message } satisfies ErrorBody, 401)
}
