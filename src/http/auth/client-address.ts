import type { Context } from 'hono'

/**
 * The peer address of a request: `server.ts` passes `{ ip: server.requestIP(req) }` as the fetch
 * env. Forwarding headers are not trusted, since any client can set them.
 */
export function clientAddress(c: Context): string {
  const env = c.env as { ip?: { address?: string } | null } | undefined
  return env?.ip?.address ?? 'unknown'
}
