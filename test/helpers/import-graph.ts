import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, posix, relative, sep } from 'node:path'

/** A source file by its path under `src/` (forward slashes) and its text. */
export interface SourceFile {
  path: string
  text: string
}

/** One import of one file, resolved to the file it names under `src/`. */
export interface ImportEdge {
  file: string
  target: string
  from: string
  to: string
}

/** Every `.ts`/`.tsx` file under `dir`, paths relative to it. */
export function readSources(dir: string): SourceFile[] {
  const out: SourceFile[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (/\.tsx?$/.test(name))
        out.push({ path: relative(dir, p).split(sep).join('/'), text: readFileSync(p, 'utf8') })
    }
  }
  walk(dir)
  return out
}

// Comments may quote import lines; a `//` inside a string only drops the rest of that line.
const stripComments = (text: string) =>
  text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:\\])\/\/.*$/gm, '$1')

const PATTERNS = [
  // `import x from`, `import type { a,\n b } from`, `export * from`, `export { a } from`
  /\b(?:import|export)\b[^'";()=]*?\bfrom\s*['"]([^'"]+)['"]/g,
  // `import './side-effect.ts'`
  /\bimport\s*['"]([^'"]+)['"]/g,
  // `import('./lazy.ts')`, `typeof import('./x.ts')`
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
]

/** The module specifiers a file imports or re-exports, statically, dynamically or as types. */
export function specifiersOf(text: string): string[] {
  const code = stripComments(text)
  const found = new Set<string>()
  for (const re of PATTERNS) for (const m of code.matchAll(re)) if (m[1]) found.add(m[1])
  return [...found]
}

/** The layer a file belongs to: its top-level folder under `src/`, or itself for a root file. */
export function nodeOf(path: string): string {
  const [first, ...rest] = path.split('/')
  return rest.length ? (first ?? path) : path.replace(/\.tsx?$/, '')
}

/** Every relative import between files under `src/` (imports of packages or outside `src/` are left out). */
export function importEdges(files: readonly SourceFile[]): ImportEdge[] {
  const known = new Set(files.map((f) => f.path))
  const resolve = (file: string, spec: string): string | undefined => {
    const base = posix.normalize(posix.join(posix.dirname(file), spec))
    if (base.startsWith('..')) return undefined
    for (const candidate of [base, `${base}.ts`, `${base}.tsx`, `${base}/index.ts`])
      if (known.has(candidate)) return candidate
    // A file the list does not hold still names its layer.
    return base
  }
  const edges: ImportEdge[] = []
  for (const f of files)
    for (const spec of specifiersOf(f.text)) {
      if (!spec.startsWith('.')) continue
      const target = resolve(f.path, spec)
      if (target !== undefined) edges.push({ file: f.path, target, from: nodeOf(f.path), to: nodeOf(target) })
    }
  return edges
}

/** Imports from files in `layers` into `forbidden` (both top-level names under `src/`). */
export function upwardImports(
  edges: readonly ImportEdge[],
  layers: readonly string[],
  forbidden: readonly string[],
): ImportEdge[] {
  return edges.filter((e) => layers.includes(e.from) && forbidden.includes(e.to))
}

/** Imports from files in `layer` into any layer other than itself and `allowed`. */
export function importsOutside(
  edges: readonly ImportEdge[],
  layer: string,
  allowed: readonly string[],
): ImportEdge[] {
  return edges.filter((e) => e.from === layer && e.to !== layer && !allowed.includes(e.to))
}

/** A cycle of layers: its members, one shortest closed path, and every import edge between members. */
export interface LayerCycle {
  members: string[]
  path: string[]
  edges: { from: string; to: string; files: string[] }[]
}

/** The layer cycles (strongly connected components of more than one layer), each with one closed path. */
export function layerCycles(edges: readonly ImportEdge[]): LayerCycle[] {
  const graph = new Map<string, Map<string, Set<string>>>()
  for (const e of edges) {
    if (e.from === e.to) continue
    const out = graph.get(e.from) ?? new Map<string, Set<string>>()
    graph.set(e.from, out)
    const files = out.get(e.to) ?? new Set<string>()
    out.set(e.to, files)
    files.add(e.file)
    if (!graph.has(e.to)) graph.set(e.to, new Map())
  }
  // Tarjan's strongly connected components.
  let counter = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const components: string[][] = []
  const visit = (v: string) => {
    index.set(v, counter)
    low.set(v, counter)
    counter++
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = []
      let w: string | undefined
      do {
        w = stack.pop()!
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      components.push(component)
    }
  }
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v)

  return components
    .filter((c) => c.length > 1)
    .map((component) => {
      const members = [...component].sort()
      const path = shortestCycle(graph, members)
      const inside = new Set(members)
      const edges = members.flatMap((from) =>
        [...(graph.get(from) ?? [])]
          .filter(([to]) => inside.has(to))
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([to, files]) => ({ from, to, files: [...files].sort() })),
      )
      return { members, path, edges }
    })
}

// Breadth-first from the first member back to itself, staying inside the component.
function shortestCycle(graph: Map<string, Map<string, Set<string>>>, members: string[]): string[] {
  const inside = new Set(members)
  const start = members[0]!
  const previous = new Map<string, string>()
  const queue = [start]
  while (queue.length) {
    const v = queue.shift()!
    for (const w of [...(graph.get(v)?.keys() ?? [])].sort()) {
      if (!inside.has(w)) continue
      if (w === start) {
        const chain: string[] = []
        for (let at = v; at !== start; at = previous.get(at)!) chain.unshift(at)
        return [start, ...chain, start]
      }
      if (!previous.has(w)) {
        previous.set(w, v)
        queue.push(w)
      }
    }
  }
  return [start]
}

/** One line per import, for a failure message. */
export function describeImports(edges: readonly ImportEdge[]): string {
  return edges.map((e) => `  src/${e.file} imports src/${e.target}`).join('\n')
}

/** The cycles with the files behind each edge between their members, for a failure message. */
export function describeCycles(cycles: readonly LayerCycle[]): string {
  return cycles
    .map(
      (c) =>
        `cycle of ${c.members.length} layers (${c.members.join(', ')}): ${c.path.join(' -> ')}\n` +
        c.edges.map((s) => `  ${s.from} -> ${s.to}: ${s.files.map((f) => `src/${f}`).join(' ')}`).join('\n'),
    )
    .join('\n')
}
