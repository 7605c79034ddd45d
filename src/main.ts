#!/usr/bin/env bun
// The composition root [STYLE 1]: the only place that reads the real environment, owns signals
// and exit codes. Everything else receives what it needs.
import { runCli } from './cli/run.ts'

const stop = Promise.withResolvers<string>()
let signals = 0
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    signals++
    // A second signal means "now": skip the graceful stop.
    if (signals > 1) process.exit(130)
    stop.resolve(signal)
  })
}

const code = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  stopRequested: stop.promise,
  isTTY: Boolean(process.stdout.isTTY),
  readStdin: () => Bun.stdin.text(),
})
process.exit(code)
