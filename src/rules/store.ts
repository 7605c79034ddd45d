import type { Database } from 'bun:sqlite'
import type { Logger } from '../log.ts'
import {
  createDefinitionRegistry,
  type DefinitionRegistry,
  deleteDefinitionRow,
  saveDefinitionRow,
  tableRows,
} from '../store/definitions.ts'
import { type Rule, ruleSchema } from './schema.ts'

/**
 * Config rules and rules created through the API on the shared definition registry
 * (docs/definitions.md): a stored rule that no longer parses is reported, not dropped.
 */
export function createRuleDefinitions(
  db: Database,
  config: readonly Rule[],
  log?: Logger,
): DefinitionRegistry<Rule> {
  return createDefinitionRegistry<Rule>({
    noun: 'rule',
    config,
    idOf: (r) => r.id,
    schema: ruleSchema,
    prepare: (definition, row) => ({ ...definition, id: row.id }),
    rows: tableRows(db, 'rules'),
    log,
  })
}

/** Creates or replaces a rule; returns whether it existed before. */
export function saveRule(db: Database, id: string, definition: unknown, now = Date.now()): boolean {
  return saveDefinitionRow(db, 'rules', id, definition, null, now)
}

export function deleteRule(db: Database, id: string): boolean {
  return deleteDefinitionRow(db, 'rules', id)
}
