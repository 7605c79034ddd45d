import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createToken } from '../../src/store/tokens.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'

const ROOT = resolve(import.meta.dir, '../..')
const BIN = join(ROOT, 'node_modules/.bin')

interface Operation {
  operationId?: string
  summary?: string
}
interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>
  components?: { schemas?: Record<string, unknown> }
}

/**
 * Summaries say what the operation does, so they open with a verb in the imperative ("List
 * devices", not "Devices" or "One device"). A new operation whose verb is missing here needs
 * the verb added, not a noun phrase.
 */
const VERBS = new Set(
  `Acknowledge Add Cancel Change Check Clear Close Count Create Delete Discard Download Enable Disable End
  Export Fetch Find Forget Get Import Issue List Log Mark Move Preview Publish Push Query Queue Read Register
  Remove Rename Replace Replay Report Reset Restore Resume Retry Revoke Rotate Run Search Send Set Show Start
  Stop Subscribe Tell Test Trigger Unsubscribe Update Upload Verify Write`.split(/\s+/),
)

// JSON Schema 2020-12 (core, applicator, validation, format, content, meta-data, unevaluated)
// plus OpenAPI 3.1's own schema keywords. Anything else is invisible to validators and linters.
const SCHEMA_KEYWORDS = new Set([
  ...[
    '$schema',
    '$id',
    '$ref',
    '$anchor',
    '$dynamicRef',
    '$dynamicAnchor',
    '$defs',
    '$comment',
    '$vocabulary',
  ],
  ...['allOf', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else', 'dependentSchemas', 'prefixItems', 'items'],
  ...['contains', 'properties', 'patternProperties', 'additionalProperties', 'propertyNames'],
  ...['unevaluatedItems', 'unevaluatedProperties', 'type', 'enum', 'const', 'multipleOf', 'maximum'],
  ...['exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems'],
  ...['minItems', 'uniqueItems', 'maxContains', 'minContains', 'maxProperties', 'minProperties', 'required'],
  ...['dependentRequired', 'format', 'contentEncoding', 'contentMediaType', 'contentSchema', 'title'],
  ...['description', 'default', 'deprecated', 'readOnly', 'writeOnly', 'examples'],
  ...['discriminator', 'xml', 'externalDocs', 'example'],
])
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'dependentSchemas']
const SUBSCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems']
const SUBSCHEMA_ONE = ['not', 'if', 'then', 'else', 'items', 'contains', 'additionalProperties']
SUBSCHEMA_ONE.push('propertyNames', 'unevaluatedItems', 'unevaluatedProperties', 'contentSchema')

/** `where: keyword` for every keyword of a schema (and its subschemas) outside the vocabulary. */
function unknownKeywords(schema: unknown, where: string, out: string[] = []): string[] {
  if (typeof schema !== 'object' || schema === null) return out
  const s = schema as Record<string, unknown>
  for (const key of Object.keys(s)) {
    if (!SCHEMA_KEYWORDS.has(key) && !key.startsWith('x-')) out.push(`${where}: ${key}`)
  }
  for (const key of SUBSCHEMA_MAPS) {
    for (const [name, sub] of Object.entries((s[key] as Record<string, unknown> | undefined) ?? {})) {
      unknownKeywords(sub, `${where}.${key}.${name}`, out)
    }
  }
  for (const key of SUBSCHEMA_LISTS) {
    ;((s[key] as unknown[] | undefined) ?? []).forEach((sub, i) => {
      unknownKeywords(sub, `${where}.${key}[${i}]`, out)
    })
  }
  for (const key of SUBSCHEMA_ONE) if (key in s) unknownKeywords(s[key], `${where}.${key}`, out)
  return out
}

/** Every schema of the document: components, parameters, request and response bodies. */
function schemasOf(doc: OpenApiDoc): Array<[string, unknown]> {
  const found: Array<[string, unknown]> = Object.entries(doc.components?.schemas ?? {}).map(([n, s]) => [
    `components.schemas.${n}`,
    s,
  ])
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const o = op as {
        parameters?: Array<{ name: string; schema?: unknown }>
        requestBody?: { content?: Record<string, { schema?: unknown }> }
        responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>
      }
      const at = `${method} ${path}`
      for (const p of o.parameters ?? []) found.push([`${at} parameter ${p.name}`, p.schema])
      for (const [type, m] of Object.entries(o.requestBody?.content ?? {}))
        found.push([`${at} body ${type}`, m.schema])
      for (const [status, r] of Object.entries(o.responses ?? {})) {
        for (const [type, m] of Object.entries(r.content ?? {}))
          found.push([`${at} ${status} ${type}`, m.schema])
      }
    }
  }
  return found
}

function operations(doc: OpenApiDoc): Array<{ at: string } & Operation> {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ at: `${method.toUpperCase()} ${path}`, ...op })),
  )
}

async function run(cmd: string[], cwd: string) {
  const proc = Bun.spawn(cmd, {
    cwd,
    stdout: 'pipe',
    stderr: 'pipe',
    // Redocly would otherwise try to send usage data and look for a newer release.
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
  })
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  return { out, err, code }
}

// The client the test writes next to the generated types: typed by `paths` alone, so a field or
// path the document does not have is a type error.
const CLIENT = `import type { paths } from './api'

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never
type GetPath = { [P in keyof paths]: paths[P] extends { get: unknown } ? P : never }[keyof paths]
type Ok<P extends GetPath> = paths[P] extends { get: { responses: { 200: infer R } } } ? Json<R> : never

export function createClient(baseUrl: string, token: string) {
  return {
    async get<P extends GetPath>(path: P): Promise<Ok<P>> {
      const res = await fetch(baseUrl + path, { headers: { authorization: 'Bearer ' + token } })
      if (!res.ok) throw new Error(path + ' answered ' + res.status)
      return (await res.json()) as Ok<P>
    },
  }
}

export async function deviceIdsAndMe(baseUrl: string, token: string): Promise<{ ids: string[]; scope: string }> {
  const client = createClient(baseUrl, token)
  const devices = await client.get('/devices')
  const me = await client.get('/auth/me')
  // @ts-expect-error the document has no /nowhere
  await client.get('/nowhere').catch(() => undefined)
  // @ts-expect-error a device has no field named colour
  devices.items.map((d) => d.colour)
  return { ids: devices.items.map((d) => d.id), scope: me.principal.scope }
}
`

const TSCONFIG = {
  compilerOptions: {
    lib: ['ESNext', 'DOM'],
    target: 'ESNext',
    module: 'Preserve',
    moduleResolution: 'bundler',
    strict: true,
    noEmit: true,
    types: [],
  },
  include: ['*.ts'],
}

describe('OpenAPI conventions', () => {
  let t: TestHub
  let doc: OpenApiDoc
  beforeAll(async () => {
    t = await startTestHub()
    doc = (await (await t.hub.app.request('/api/v1/openapi.json')).json()) as OpenApiDoc
  })
  afterAll(() => t.stop())

  it('gives every operation a unique operationId and a summary that opens with a verb', () => {
    const ops = operations(doc)
    expect(ops.length).toBeGreaterThan(50)
    const problems = ops.flatMap((op) => {
      const bad: string[] = []
      if (!op.operationId || !/^[a-z][a-zA-Z0-9]*$/.test(op.operationId)) bad.push(`${op.at}: operationId`)
      const verb = op.summary?.split(/[\s:;,]/)[0] ?? ''
      if (!VERBS.has(verb)) bad.push(`${op.at}: summary "${op.summary ?? ''}"`)
      return bad
    })
    expect(problems).toEqual([])
    const ids = ops.map((op) => op.operationId)
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([])
  })

  it('uses no keyword outside JSON Schema and OpenAPI in any schema', () => {
    const found = schemasOf(doc).flatMap(([where, schema]) => unknownKeywords(schema, where))
    expect(found).toEqual([])
  })

  it('finds a keyword that is not JSON Schema, however deep', () => {
    const schema = { type: 'object', properties: { a: { anyOf: [{ type: 'number', duration: true }] } } }
    expect(unknownKeywords(schema, 's')).toEqual(['s.properties.a.anyOf[0]: duration'])
  })

  it('passes Redocly lint with no errors and generates a client that type-checks and runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-openapi-'))
    try {
      const text = await (await fetch(`${t.url}/api/v1/openapi.json`)).text()
      writeFileSync(join(dir, 'openapi.json'), text)

      const lint = await run([join(BIN, 'redocly'), 'lint', 'openapi.json', '--format=json'], dir)
      const report = JSON.parse(lint.out) as {
        totals: { errors: number; warnings: number }
        problems: Array<{ ruleId: string; severity: string; message: string }>
      }
      expect(report.problems.filter((p) => p.severity === 'error')).toEqual([])
      expect(lint.code).toBe(0)
      // The one warning left: the project has not chosen a license for the document to name.
      expect(report.problems.map((p) => p.ruleId)).toEqual(report.problems.length ? ['info-license'] : [])

      // openapi-typescript 6: version 7 prints its output with TypeScript 5's compiler API, which
      // the TypeScript 7 this project type-checks with (a native compiler) does not have.
      const gen = await run([join(BIN, 'openapi-typescript'), 'openapi.json', '--output', 'api.d.ts'], dir)
      expect(gen.code).toBe(0)
      writeFileSync(join(dir, 'client.ts'), CLIENT)
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG))
      const tsc = await run([join(BIN, 'tsc'), '--noEmit', '-p', dir], dir)
      expect(tsc.out + tsc.err).toBe('')
      expect(tsc.code).toBe(0)

      const { secret } = createToken(t.hub.db, { name: 'client', scope: 'read' })
      const client = (await import(join(dir, 'client.ts'))) as {
        deviceIdsAndMe(base: string, token: string): Promise<{ ids: string[]; scope: string }>
      }
      expect(await client.deviceIdsAndMe(`${t.url}/api/v1`, secret)).toEqual({ ids: [], scope: 'read' })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
