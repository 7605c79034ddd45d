import type { CliIo, ParsedArgs } from './command.ts'

/**
 * What a `list` subcommand prints: the items as one line of JSON with `--json`, else `empty` when
 * there are none (where the command has such a hint), else the text `lines` makes of them.
 */
export function printList<T>(
  io: CliIo,
  args: ParsedArgs,
  items: readonly T[],
  lines: (items: readonly T[]) => string,
  empty?: string,
): number {
  if (args.values.json) io.out(`${JSON.stringify(items)}\n`)
  else io.out(items.length === 0 && empty !== undefined ? empty : lines(items))
  return 0
}

/** A header and rows as columns two spaces apart, each as wide as its widest cell; one line a row. */
export function table(header: readonly string[], body: readonly (readonly string[])[]): string {
  const rows = [header, ...body]
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)))
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  return rows.map((r) => `${line(r)}\n`).join('')
}
