import type { Invocation } from '../../src/cli/invocation.ts'
import { runCli } from '../../src/cli/run.ts'

export interface CliResult {
  code: number
  out: string
  err: string
}

/**
 * Runs `hearth <argv>` in-process with captured output. `stop` resolves the stop request the way
 * a SIGTERM would (for `serve`).
 */
export async function cli(
  argv: string[],
  opts: {
    cwd: string
    env?: Record<string, string>
    stop?: Promise<string>
    stdin?: string
    /** How the CLI believes it was started (default: from sources, hints say `hearth`). */
    invocation?: Invocation
    /** Pretend stderr is a terminal (progress lines). */
    errIsTTY?: boolean
  },
): Promise<CliResult> {
  let out = ''
  let err = ''
  const code = await runCli(argv, {
    out: (t) => {
      out += t
    },
    err: (t) => {
      err += t
    },
    env: { HEARTH_LOG_LEVEL: 'silent', ...opts.env },
    cwd: opts.cwd,
    stopRequested: opts.stop ?? new Promise<string>(() => {}),
    isTTY: false,
    errIsTTY: opts.errIsTTY ?? false,
    ...(opts.stdin !== undefined ? { readStdin: async () => opts.stdin ?? '' } : {}),
    ...(opts.invocation ? { invocation: opts.invocation } : {}),
  })
  return { code, out, err }
}
