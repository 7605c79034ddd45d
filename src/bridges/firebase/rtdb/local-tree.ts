import type { Database } from 'bun:sqlite'
import { getAt, sameValue, setAt, type Tree, updateAt } from './tree.ts'

/**
 * The hub's copy of the mirrored tree, in SQLite (source (a) kept `realtimedb.json`): what the
 * hub wrote and what it heard from the database, whether or not the database was reachable.
 */
export interface LocalTree {
  get(path?: string): unknown
  /** When it last changed; null when it never did. */
  updatedAt(): number | null
  /** Sets a node; false (nothing stored) when it already had that value. */
  set(path: string, value: unknown): boolean
  /** Sets several children of a node; false when none changed. */
  update(path: string, children: Record<string, unknown>): boolean
}

export function createLocalTree(db: Database, now: () => number): LocalTree {
  let cache: { tree: Tree; updatedAt: number | null } | undefined

  // Read on first use: building the bridge does no I/O [STYLE 3].
  const state = () => {
    if (!cache) {
      const row = db.query('SELECT tree, updated_at FROM firebase_rtdb WHERE id = 1').get() as {
        tree: string
        updated_at: number
      } | null
      cache = row
        ? { tree: JSON.parse(row.tree), updatedAt: row.updated_at }
        : { tree: null, updatedAt: null }
    }
    return cache
  }

  const store = (tree: Tree) => {
    const at = now()
    db.query(
      `INSERT INTO firebase_rtdb (id, tree, updated_at) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET tree = excluded.tree, updated_at = excluded.updated_at`,
    ).run(JSON.stringify(tree), at)
    cache = { tree, updatedAt: at }
  }

  return {
    get: (path = '') => getAt(state().tree, path),
    updatedAt: () => state().updatedAt,
    set(path, value) {
      const { tree } = state()
      if (sameValue(getAt(tree, path), value)) return false
      store(setAt(tree, path, value))
      return true
    },
    update(path, children) {
      const { tree } = state()
      const next = updateAt(tree, path, children)
      if (sameValue(tree, next)) return false
      store(next)
      return true
    },
  }
}
