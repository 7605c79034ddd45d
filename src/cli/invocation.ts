import { basename } from 'node:path'

/** How this process was started: what hints tell the user to type, and what a service runs. */
export interface Invocation {
  /** The command form that works where the user is: `hearth`, `./dist/hearth` or `npm run hearth --`. */
  command: string
  /** Absolute path of the compiled binary; undefined when running from sources. */
  binary?: string
}

/** What `describeInvocation` reads of the process; `main.ts` passes the real values. */
export interface ProcessFacts {
  /** `Bun.main`: a `/$bunfs/` path inside a compiled binary. */
  main: string
  /** `process.execPath`: the binary itself when compiled. */
  execPath: string
  /** `process.argv0`: what the user typed to start it. */
  argv0: string
  /** Where `name` resolves on PATH (`Bun.which`), as a real path, or undefined. */
  which(name: string): string | undefined
  /** The real path of a file (symlinks resolved). */
  realpath(path: string): string
}

/** In a source checkout `npm run hearth -- …` works from any folder of it (package.json script). */
export const SOURCE_COMMAND = 'npm run hearth --'

// `bun build --compile` puts the bundle under this virtual root (B:/~BUN/ on Windows).
const COMPILED = /^(\/\$bunfs\/|[A-Z]:[\\/]~BUN[\\/])/

export function describeInvocation(p: ProcessFacts): Invocation {
  if (!COMPILED.test(p.main)) return { command: SOURCE_COMMAND }
  const binary = p.execPath
  // Typed bare, so found on PATH: the same word works anywhere.
  if (!p.argv0.includes('/')) return { command: p.argv0, binary }
  // Started by path, but PATH leads to this same file: the short name works too.
  const name = basename(binary)
  if (p.which(name) === p.realpath(binary)) return { command: name, binary }
  // Started by path: repeat it as typed, so a hint works in the same folder.
  return { command: p.argv0, binary }
}

/** The command form for hints (`<form> user passwd admin`); `hearth` when nobody said. */
export function commandForm(io: { invocation?: Invocation }): string {
  return io.invocation?.command ?? 'hearth'
}
