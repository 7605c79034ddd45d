import { describe, expect, it } from 'bun:test'
import { createToken } from '../../src/store/tokens.ts'
import { startTestHub, type TestHub, tempDir } from '../helpers/hub.ts'

// The one rule of docs/definitions.md, played for each kind through the real API on a real
// database: the config file's id wins, the API answers 409 for it, and a stored row that no
// longer parses is listed as invalid (and kept) instead of being dropped or stopping the hub.

interface Kind {
  name: string
  path: string
  /** The config file's section holding `shared`. */
  config: (id: string) => Record<string, unknown>
  /** Creates `id` through the API. */
  create: (call: Call, id: string) => Promise<Answer>
  /** Replaces `id` through the API. */
  replace: (call: Call, id: string) => Promise<Answer>
  /** `[id, source]` of each listed item. */
  listed: (body: { items: Array<Record<string, unknown>> }) => Array<[unknown, unknown]>
  /** Writes a row an older build could have written, which today's schema refuses. */
  insertInvalid: (t: TestHub, id: string) => void
}

type Answer = { status: number; body: Record<string, unknown> & { code?: number; error?: string } }
type Call = (method: string, path: string, body?: unknown) => Promise<Answer>

const hook = (name: string) => ({ name, preset: 'none', topic: `hooks/${name}` })
// Never contacted: no message is published on the target's filter.
const target = (name: string) => ({ name, filter: `unused/${name}/+`, url: 'http://127.0.0.1/never' })
const rule = {
  trigger: { type: 'telemetry', metric: 'no2' },
  when: { path: 'value', op: '>=', value: 88 },
  actions: [{ type: 'event', message: 'no2 high' }],
}
const schedule = (id: string) => ({
  id,
  kind: 'cron',
  cron: '*/30 * * * *',
  actions: [{ type: 'event', message: id }],
})

const kinds: Kind[] = [
  {
    name: 'hooks',
    path: '/hooks',
    config: (id) => ({ hooks: [hook(id)] }),
    create: (call, id) => call('POST', '/hooks', hook(id)),
    replace: (call, id) => call('PUT', `/hooks/${id}`, hook(id)),
    listed: (b) => b.items.map((i) => [i.name, i.source]),
    insertInvalid: (t, id) =>
      t.hub.db.run(
        `INSERT INTO hooks (name, definition, secret, created_at, updated_at) VALUES (?, ?, NULL, 1, 1)`,
        [id, JSON.stringify({ name: id, preset: 'carrier-pigeon' })],
      ),
  },
  {
    name: 'webhook targets',
    path: '/webhook-targets',
    config: (id) => ({ webhooks: [target(id)] }),
    create: (call, id) => call('POST', '/webhook-targets', target(id)),
    replace: (call, id) => call('PUT', `/webhook-targets/${id}`, target(id)),
    listed: (b) => b.items.map((i) => [i.name, i.source]),
    insertInvalid: (t, id) =>
      t.hub.db.run(
        `INSERT INTO webhook_targets (name, definition, secret, created_at, updated_at) VALUES (?, ?, NULL, 1, 1)`,
        [id, JSON.stringify({ ...target(id), filter: 'bad/#/filter' })],
      ),
  },
  {
    name: 'rules',
    path: '/rules',
    config: (id) => ({ rules: [{ id, ...rule }] }),
    create: (call, id) => call('PUT', `/rules/${id}`, rule),
    replace: (call, id) => call('PUT', `/rules/${id}`, { ...rule, cooldown: '5m' }),
    listed: (b) => b.items.map((i) => [(i.rule as { id: string }).id, i.origin]),
    insertInvalid: (t, id) =>
      t.hub.db.run(`INSERT INTO rules (id, definition, created_at, updated_at) VALUES (?, ?, 1, 1)`, [
        id,
        JSON.stringify({ ...rule, trigger: { type: 'carrier-pigeon' } }),
      ]),
  },
  {
    name: 'schedules',
    path: '/schedules',
    config: (id) => ({ schedules: [schedule(id)] }),
    create: (call, id) => call('POST', '/schedules', schedule(id)),
    replace: (call, id) => call('PUT', `/schedules/${id}`, schedule(id)),
    listed: (b) => b.items.map((i) => [i.id, i.origin]),
    insertInvalid: (t, id) =>
      t.hub.db.run(
        `INSERT INTO schedules (id, origin, definition, created_at, updated_at) VALUES (?, 'api', ?, 1, 1)`,
        [id, JSON.stringify({ ...schedule(id), cron: 'not a cron' })],
      ),
  },
]

function client(t: TestHub): Call {
  const { secret } = createToken(t.hub.db, { name: `admin-${crypto.randomUUID()}`, scope: 'admin' })
  return async (method, path, body) => {
    const res = await fetch(`${t.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${secret}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : {} }
  }
}

// Sorted: rules list the config file's first, in its order; the other kinds list by id.
const listedOf = (kind: Kind, body: Record<string, unknown>) =>
  kind
    .listed(body as { items: Array<Record<string, unknown>> })
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])))

const rowCount = (t: TestHub, table: string, id: string) =>
  (
    t.hub.db
      .query(
        `SELECT count(*) AS n FROM ${table} WHERE ${table === 'hooks' || table === 'webhook_targets' ? 'name' : 'id'} = ?`,
      )
      .get(id) as { n: number }
  ).n

const tableOf: Record<string, string> = {
  hooks: 'hooks',
  'webhook targets': 'webhook_targets',
  rules: 'rules',
  schedules: 'schedules',
}

for (const kind of kinds) {
  describe(`${kind.name} from the config file and the API`, () => {
    it('lets the config file win on a shared id, answers 409 for it and keeps the API one shadowed', async () => {
      using dir = tempDir()
      {
        await using t = await startTestHub({}, { dataDir: dir.path })
        const call = client(t)
        expect((await kind.create(call, 'shared')).status).toBe(201)
        expect((await kind.create(call, 'own')).status).toBe(201)
      }
      {
        await using t = await startTestHub(kind.config('shared'), { dataDir: dir.path })
        const call = client(t)
        const list = await call('GET', kind.path)
        expect(listedOf(kind, list.body)).toEqual([
          ['own', 'api'],
          ['shared', 'config'],
        ])
        expect(list.body.shadowed).toEqual(['shared'])
        expect(list.body.invalid).toBeUndefined()

        const refused = [
          await kind.create(call, 'shared'),
          await kind.replace(call, 'shared'),
          await call('DELETE', `${kind.path}/shared`),
        ]
        expect(refused.map((r) => [r.status, r.body.code])).toEqual([
          [409, 40901],
          [409, 40901],
          [409, 40901],
        ])
        for (const r of refused) expect(r.body.error).toContain('defined in the config file')
        // The API row is still stored, unused while the config file defines its id.
        expect(rowCount(t, tableOf[kind.name]!, 'shared')).toBe(1)
      }
      // Without the config file's item, the API one is in effect again.
      await using t = await startTestHub({}, { dataDir: dir.path })
      const list = await client(t)('GET', kind.path)
      expect(listedOf(kind, list.body)).toEqual([
        ['own', 'api'],
        ['shared', 'api'],
      ])
      expect(list.body.shadowed).toBeUndefined()
    })

    it('lists a stored row that no longer parses as invalid, keeps it, and lets the API replace or delete it', async () => {
      using dir = tempDir()
      {
        await using t = await startTestHub({}, { dataDir: dir.path })
        kind.insertInvalid(t, 'broken')
        kind.insertInvalid(t, 'fixable')
      }
      await using t = await startTestHub({}, { dataDir: dir.path })
      expect(t.fatal).toBeUndefined()
      const call = client(t)
      const list = await call('GET', kind.path)
      expect(list.status).toBe(200)
      expect(list.body.items).toEqual([])
      expect(list.body.invalid).toEqual([
        { id: 'broken', error: expect.any(String) },
        { id: 'fixable', error: expect.any(String) },
      ])
      expect((await call('GET', `${kind.path}/broken`)).status).toBe(404)
      expect(rowCount(t, tableOf[kind.name]!, 'broken')).toBe(1)

      expect((await kind.replace(call, 'fixable')).status).toBe(200)
      expect((await call('DELETE', `${kind.path}/broken`)).status).toBe(204)
      const after = await call('GET', kind.path)
      expect(listedOf(kind, after.body)).toEqual([['fixable', 'api']])
      expect(after.body.invalid).toBeUndefined()
    })
  })
}
