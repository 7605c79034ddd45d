#!/usr/bin/env bun
// The composition root [STYLE 1]: the only place that reads the real environment, owns signals
// and exit codes. Everything else receives what it needs.
import { runCli } from './cli/run.ts'
import { listenForStop } from './cli/signals.ts'

const stopRequested = listenForStop(process)

const code = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  stopRequested,
  isTTY: Boolean(process.stdout.isTTY),
  errIsTTY: Boolean(process.stderr.isTTY),
  readStdin: () => Bun.stdin.text(),
})
process.exit(code)
