import { describe, expect, it } from 'bun:test'
import { createLogger } from '../../src/log.ts'
import { ruleSchema } from '../../src/rules/schema.ts'
import { createDefinitionRegistry, saveDefinitionRow, tableRows } from '../../src/store/definitions.ts'
import { openStore } from '../../src/store/open.ts'
import { tempDir } from '../helpers/hub.ts'

const rule = (id: string, message: string) =>
  ruleSchema.parse({
    id,
    trigger: { type: 'telemetry', metric: 'no2' },
    actions: [{ type: 'event', message }],
  })

describe('the definition registry', () => {
  it('reports a stored row that does not parse once per version, and notifies on every change', () => {
    using dir = tempDir()
    const { db } = openStore(dir.path)
    const lines: string[] = []
    const log = createLogger({ level: 'error', format: 'json', write: (l) => lines.push(l) })
    const registry = createDefinitionRegistry({
      noun: 'rule',
      config: [rule('a', 'from the config file')],
      idOf: (r) => r.id,
      schema: ruleSchema,
      prepare: (definition, row) => ({ ...definition, id: row.id }),
      rows: tableRows(db, 'rules'),
      log,
    })
    const changed: string[] = []
    registry.onChange((id) => changed.push(id))

    db.run(
      `INSERT INTO rules (id, definition, created_at, updated_at) VALUES ('bad', '{"trigger": 1}', 1, 1)`,
    )
    db.run(`INSERT INTO rules (id, definition, created_at, updated_at) VALUES ('nojson', 'nope', 1, 1)`)
    saveDefinitionRow(
      db,
      'rules',
      'a',
      { trigger: { type: 'hook', name: 'x' }, actions: [{ type: 'event', message: 'stored' }] },
      null,
      1,
    )
    registry.list()
    const listed = registry.list()
    expect({ ...listed, items: listed.items.map((i) => [i.id, i.source]) }).toEqual({
      items: [['a', 'config']],
      shadowed: ['a'],
      invalid: [
        { id: 'bad', error: expect.stringContaining('trigger') },
        { id: 'nojson', error: 'the stored definition is not JSON' },
      ],
    })
    expect(lines.map((l) => JSON.parse(l).id)).toEqual(['bad', 'nojson'])
    expect(registry.get('a')?.definition).toEqual(rule('a', 'from the config file'))

    // A new version of the bad row is reported again.
    db.run(`UPDATE rules SET updated_at = 2 WHERE id = 'bad'`)
    registry.list()
    expect(lines).toHaveLength(3)

    expect(() => registry.refuseConfigDefined('a')).toThrow('rule a is defined in the config file')
    expect(registry.setConfig([rule('a', 'changed'), rule('b', 'added')])).toEqual(['a', 'b'])
    expect(registry.setConfig([rule('b', 'added')])).toEqual(['a'])
    // The config file dropped `a`: the stored one is in effect again.
    expect(registry.get('a')?.source).toBe('api')
    expect(changed).toEqual(['a', 'b', 'a'])
    db.close()
  })
})
