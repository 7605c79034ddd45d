import { join } from 'node:path'
import { ConfigError } from '../config/load.ts'
import { createHub, INITIAL_ADMIN_FILE } from '../hub.ts'
import { createLogger, logFormat } from '../log.ts'
import { ListenError } from '../runtime/listen-error.ts'
import { DataDirLockedError } from '../store/lock.ts'
import { SchemaTooNewError } from '../store/migrate.ts'
import { UpgradeFailedError } from '../store/upgrade.ts'
import { configCommand } from './config.ts'
import { commandForm } from './invocation.ts'

const STOP_DEADLINE_MS = 5000

export const serve = configCommand({
  name: 'serve',
  summary: 'Run the hub: MQTT broker, HTTP API, console, rules, schedules and bridges.',
  async run(_args, io, loadConfig) {
    const { config, file } = loadConfig()
    const format = logFormat(config.log.format, io.isTTY)
    const log = createLogger({ level: config.log.level, format, write: (line) => io.out(`${line}\n`) })
    // With JSON logs (journald, Docker) stdout is for machines: every line is JSON, and the
    // first-start password stays in its 0600 file instead of landing in the journal.
    const json = format === 'json'
    const serveLog = log.child('serve')
    let fatal: ((code: number) => void) | undefined
    const failed = new Promise<number>((resolve) => {
      fatal = resolve
    })
    const hub = createHub({
      config,
      log,
      onFatal: (err, service) => {
        log.error('a core service failed; stopping', { service, err })
        fatal?.(1)
      },
    })
    try {
      await hub.start()
    } catch (err) {
      const reason = explainStartFailure(err, config.dataDir)
      if (!json) io.err(`hearth: ${reason}\n`)
      // Whatever the log level: the one line that says why the hub is not running.
      else
        createLogger({ level: 'error', format, write: (line) => io.err(`${line}\n`) })
          .child('serve')
          .error('hearth could not start', { reason })
      return 1
    }

    const url = `http://${config.http.host === '0.0.0.0' ? 'localhost' : config.http.host}:${hub.httpPort}/`
    log.info('hearth is running', {
      config: file ?? '(embedded defaults)',
      dataDir: config.dataDir,
      mqttPort: hub.mqttPort,
      console: url,
    })
    const passwordFile = join(config.dataDir, INITIAL_ADMIN_FILE)
    const form = commandForm(io)
    if (json) {
      const change = `${form} user passwd admin`
      if (hub.initialAdminPassword)
        serveLog.warn('first start: log in as "admin" with the password in file', {
          file: passwordFile,
          change,
        })
    } else {
      io.out(`\nHearth console: ${url}\n`)
      if (hub.initialAdminPassword) {
        io.out(
          `First start: log in as "admin" with password ${hub.initialAdminPassword}\n` +
            `(also written to ${passwordFile}; change it with "${form} user passwd admin")\n\n`,
        )
      } else {
        io.out(`Log in with your admin account ("${form} user passwd admin" resets its password).\n\n`)
      }
    }

    // SIGHUP: read the file and environment again and apply what can be applied live.
    const stopReloads = io.onReload?.(() => {
      log.info('reloading the config', { config: file ?? '(embedded defaults)' })
      hub.reload(() => loadConfig().config)
    })

    const code = await Promise.race([
      io.stopRequested.then((signal) => ({ signal })),
      failed.then((c) => ({ code: c })),
    ])
    stopReloads?.()
    if ('signal' in code) {
      hub.bus.emit('hub.stopping', { signal: code.signal })
      log.info('stopping', { signal: code.signal })
    }
    const stopped = hub.stop().then(() => true)
    const deadline = new Promise<boolean>((resolve) =>
      setTimeout(() => resolve(false), STOP_DEADLINE_MS).unref(),
    )
    if (!(await Promise.race([stopped, deadline]))) {
      log.error('stop took longer than 5 s; exiting anyway')
      return 1
    }
    log.info('stopped')
    return 'code' in code ? code.code : 0
  },
})

/** One line a person can act on, for the failures that stop the hub from starting. */
function explainStartFailure(err: unknown, dataDir: string): string {
  if (err instanceof ListenError || err instanceof ConfigError || err instanceof SchemaTooNewError)
    return err.message
  if (err instanceof DataDirLockedError || err instanceof UpgradeFailedError) return err.message
  const e = err as NodeJS.ErrnoException
  if (['EACCES', 'EROFS', 'EPERM', 'ENOTDIR', 'EEXIST'].includes(e?.code ?? '')) {
    return `data dir ${dataDir} is not writable (${e.code}: ${e.message})`
  }
  if (e?.code === 'SQLITE_CANTOPEN' || /unable to open database|readonly database/i.test(e?.message ?? '')) {
    return `cannot open the database in ${dataDir}: ${e.message}`
  }
  return `failed to start: ${e?.message ?? String(err)}`
}
