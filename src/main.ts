#!/usr/bin/env bun
// The composition root [STYLE 1]: the only place that reads the real environment, owns signals
// and exit codes. Everything else receives what it needs.
import { realpathSync } from 'node:fs'
import { describeInvocation } from './cli/invocation.ts'
import { runCli } from './cli/run.ts'
import { listenForReload, listenForStop } from './cli/signals.ts'

const stopRequested = listenForStop(process)
const onReload = listenForReload(process)

const code = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  stopRequested,
  onReload,
  isTTY: Boolean(process.stdout.isTTY),
  errIsTTY: Boolean(process.stderr.isTTY),
  readStdin: () => Bun.stdin.text(),
  invocation: describeInvocation({
    main: Bun.main,
    execPath: process.execPath,
    argv0: process.argv0,
    which: (name) => {
      const found = Bun.which(name)
      return found ? realpathSync(found) : undefined
    },
    realpath: (path) => realpathSync(path),
  }),
})
process.exit(code)
