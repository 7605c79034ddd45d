import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { z } from 'zod'

/** An error the API answers with a stable numeric code [STYLE 8]. Tests assert on `code`. */
export class HubError extends Error {
  constructor(
    readonly code: number,
    readonly status: ContentfulStatusCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
    this.name = 'HubError'
  }
}

/**
 * A refusal inside the hub that its caller tells apart by `reason` and maps to an outcome (an API
 * status, a CLI message); subclasses name themselves.
 */
export class ReasonError<R extends string> extends Error {
  constructor(
    readonly reason: R,
    message: string,
  ) {
    super(message)
  }
}

/** The error catalog. Codes never change meaning once released; add new ones at the end of a block. */
export const Errors = {
  badJson: () => new HubError(40001, 400, 'request body is not valid JSON'),
  invalid: (details: unknown) => new HubError(40002, 400, 'request does not match the schema', details),
  badQuery: (details: unknown) => new HubError(40003, 400, 'query parameters are not valid', details),
  badReading: (details: unknown) => new HubError(40004, 400, 'a reading value is not a number', details),
  readingTime: (details: unknown) =>
    new HubError(40005, 400, 'a reading time is before 2000-01-01 or more than a day ahead', details),
  unauthenticated: () => new HubError(40101, 401, 'authentication required'),
  badSignature: () => new HubError(40102, 401, 'webhook signature does not match'),
  staleTimestamp: () => new HubError(40103, 401, 'webhook timestamp is outside the allowed window'),
  badCredentials: () => new HubError(40104, 401, 'wrong username or password'),
  forbidden: () => new HubError(40301, 403, 'not allowed'),
  csrf: () => new HubError(40302, 403, 'missing or wrong CSRF token'),
  wrongPassword: () => new HubError(40303, 403, 'the current password is wrong'),
  notFound: (what = 'resource') => new HubError(40401, 404, `${what} not found`),
  routeNotFound: () => new HubError(40402, 404, 'no such route'),
  unknownAction: (action: string) => new HubError(40403, 404, `no console action ${action}`),
  methodNotAllowed: (allowed: string[]) =>
    new HubError(40501, 405, `method not allowed; use ${allowed.join(', ')}`, { allow: allowed }),
  conflict: (what: string) => new HubError(40901, 409, what),
  replayedDelivery: () => new HubError(40902, 409, 'this webhook delivery was already accepted'),
  tooLarge: (limit: number) => new HubError(41301, 413, `request body exceeds ${limit} bytes`),
  unsupportedType: (type: string) => new HubError(41501, 415, `unsupported content type ${type || '(none)'}`),
  hookMapping: (what: string) => new HubError(42201, 422, `webhook body cannot be mapped: ${what}`),
  tooManyRequests: (retryAfterS: number) =>
    new HubError(42901, 429, `too many requests; retry in ${retryAfterS} s`, { retryAfter: retryAfterS }),
  internal: () => new HubError(50001, 500, 'internal error'),
  unavailable: (what: string) => new HubError(50301, 503, what),
} as const

/** JSON error body of every HTTP error and failed console request. */
export interface ErrorBody {
  code: number
  error: string
  details?: unknown
}

/** Where a value failed its schema and why: the `details` of an `invalid` error. */
interface IssueDetail {
  path: string
  message: string
}

/** A schema's complaints as `details`, one entry per issue, the path dotted. */
export function describeIssues(error: z.ZodError): IssueDetail[] {
  return error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))
}

/** The `invalid` error for a value that failed its schema. */
export const invalidFrom = (error: z.ZodError): HubError => Errors.invalid(describeIssues(error))

/**
 * The answer for anything thrown while serving a request: a HubError as itself; anything else as
 * the opaque internal error, so no internal message leaks (the caller logs the original).
 */
export function toErrorBody(err: unknown): { status: ContentfulStatusCode; body: ErrorBody } {
  const e = err instanceof HubError ? err : Errors.internal()
  const body: ErrorBody = { code: e.code, error: e.message }
  if (e.details !== undefined) body.details = e.details
  return { status: e.status, body }
}
