import { OpenAPIHono } from '@hono/zod-openapi'
import { invalidFrom } from '../errors.ts'
import { VERSION } from '../version.ts'

/** What authentication middleware puts on the context for handlers. */
export interface Principal {
  kind: 'user' | 'token' | 'device'
  /** Username, token id or device id. */
  id: string
  scope: 'read' | 'write' | 'admin'
  /** True when authenticated by a session cookie (changes then need the CSRF header). */
  viaCookie?: boolean
}

export type ApiEnv = { Variables: { principal: Principal } }

/**
 * A router for one resource under `/api/v1`. Request schemas are zod; a request that does not
 * match answers 40002 with the issues, and the route appears in the OpenAPI document.
 */
export function createRouter(): OpenAPIHono<ApiEnv> {
  return new OpenAPIHono<ApiEnv>({
    defaultHook: (result) => {
      if (!result.success) throw invalidFrom(result.error)
    },
  })
}

export interface ApiMount {
  /** Path under `/api/v1`, e.g. `/devices`. */
  path: string
  router: OpenAPIHono<ApiEnv>
}

/** `/api/v1` with every resource router mounted and `/api/v1/openapi.json` generated from their schemas. */
export function createApi(mounts: readonly ApiMount[]): OpenAPIHono<ApiEnv> {
  const api = createRouter()
  for (const m of mounts) api.route(m.path, m.router)
  api.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' })
  api.openAPIRegistry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: 'hearth_session',
  })
  api.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Hearth API', version: VERSION, description: 'REST API of the Hearth home hub.' },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }, { session: [] }],
  })
  return api
}
