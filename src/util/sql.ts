import type { Page } from './page.ts'
/** A value bound to a `?` placeholder. */
export type SqlArg = string | number

/** SQL conditions joined with AND, and the values of their `?` placeholders, added filter by filter. */
export class SqlFilter {
  readonly conditions: string[] = []
  readonly args: SqlArg[] = []

  /** Adds a condition with the values of its placeholders, in order. */
  add(condition: string, ...args: SqlArg[]): this {
    this.conditions.push(condition)
    this.args.push(...args)
    return this
  }

  /** Adds `column = ?` when `value` is given. */
  equals(column: string, value: SqlArg | undefined): this {
    return value === undefined ? this : this.add(`${column} = ?`, value)
  }

  /** `WHERE …`, or nothing when no condition was added. */
  where(): string {
    return this.conditions.length ? `WHERE ${this.conditions.join(' AND ')}` : ''
  }
}

/** How many items a page holds: `limit` kept within 1 to 1000, 100 when not given. */
export function pageSize(limit: number | undefined): number {
  return Math.min(Math.max(limit ?? 100, 1), 1000)
}

/**
 * A page from rows read with `LIMIT size + 1`: a row beyond `size` means there is a next page,
 * whose cursor is that of the page's last item.
 */
export function pageOf<R, T>(
  rows: readonly R[],
  size: number,
  toItem: (row: R) => T,
  cursorOf: (last: T) => string | undefined,
): Page<T> {
  const items = rows.slice(0, size).map(toItem)
  const last = items.at(-1)
  const nextCursor = rows.length > size && last !== undefined ? cursorOf(last) : undefined
  return nextCursor === undefined ? { items } : { items, nextCursor }
}
