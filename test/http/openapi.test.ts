import { describe, expect, it } from 'bun:test'
import { Validator } from '@seriousme/openapi-schema-validator'
import type { Hono } from 'hono'
import { createRouter } from '../../src/http/api.ts'
import { createApp } from '../../src/http/app.ts'
import { silentLogger } from '../../src/log.ts'
import { startTestHub } from '../helpers/hub.ts'

interface OpenApiDoc {
  openapi: string
  paths: Record<string, Record<string, unknown>>
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])

/** Hono's `/api/v1/tokens/:id` as OpenAPI's `/tokens/{id}`. */
function toOpenApiPath(honoPath: string): string {
  return honoPath.slice('/api/v1'.length).replace(/:(\w+)(\{[^}]*\})?/g, '{$1}') || '/'
}

/** Routes Hono serves under /api/v1, and those of them the document does not list, as `method /path`. */
async function compare(app: Hono) {
  const doc = (await (await app.request('/api/v1/openapi.json')).json()) as OpenApiDoc
  const documented = new Set(
    Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)),
  )
  const mounted = [
    ...new Set(
      app.routes
        .filter(
          (r) => r.path.startsWith('/api/v1/') && METHODS.has(r.method) && r.path !== '/api/v1/openapi.json',
        )
        .map((r) => `${r.method.toLowerCase()} ${toOpenApiPath(r.path)}`),
    ),
  ]
  return { mounted, missing: mounted.filter((r) => !documented.has(r)) }
}

describe('OpenAPI document', () => {
  it('lists every route mounted under /api/v1 with its method', async () => {
    await using t = await startTestHub()
    const { mounted, missing } = await compare(t.hub.app)
    expect(mounted.length).toBeGreaterThan(10)
    expect(missing).toEqual([])
  })

  it('is checked by a comparison that notices a route added without a schema', async () => {
    const router = createRouter()
    router.get('/hidden/:id', (c) => c.text('x'))
    const app = createApp({
      log: silentLogger(),
      maxBodyBytes: 1024,
      corsOrigins: [],
      readiness: [],
      api: [{ path: '/x', router }],
    })
    expect((await compare(app)).missing).toEqual(['get /x/hidden/{id}'])
  })

  it('is a valid OpenAPI 3.1 document', async () => {
    await using t = await startTestHub()
    const doc = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as OpenApiDoc
    expect(doc.openapi).toBe('3.1.0')
    const result = await new Validator().validate(doc as unknown as Parameters<Validator['validate']>[0])
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
  })
})
