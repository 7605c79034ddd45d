/** Structured logger: one instance injected everywhere, a child per module. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'
type LogFields = Record<string, unknown>
type Message = string | (() => string)

export interface Logger {
  readonly level: LogLevel
  /** Changes the level of this logger, its parent and every child: they share one threshold. */
  setLevel(level: LogLevel): void
  child(module: string, fields?: LogFields): Logger
  enabled(level: Exclude<LogLevel, 'silent'>): boolean
  debug(msg: Message, fields?: LogFields): void
  info(msg: Message, fields?: LogFields): void
  warn(msg: Message, fields?: LogFields): void
  error(msg: Message, fields?: LogFields): void
}

interface LoggerOptions {
  level: LogLevel
  /** `json` lines for machines, `pretty` for a person at a terminal; `auto` picks by TTY. */
  format?: 'json' | 'pretty' | 'auto'
  write?: (line: string) => void
  isTTY?: boolean
  now?: () => Date
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

/** The format a logger writes: `auto` is pretty on a terminal and JSON anywhere else. */
export function logFormat(format: LoggerOptions['format'], isTTY: boolean): 'json' | 'pretty' {
  return format === 'pretty' || ((format ?? 'auto') === 'auto' && isTTY) ? 'pretty' : 'json'
}

export function createLogger(opts: LoggerOptions): Logger {
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`))
  const isTTY = opts.isTTY ?? Boolean(process.stdout.isTTY)
  const format = logFormat(opts.format, isTTY) === 'pretty' ? formatPretty : formatJson
  const now = opts.now ?? (() => new Date())
  // One threshold for the whole tree, so a reload's new level reaches every module's child logger.
  const state = { level: opts.level, threshold: RANK[opts.level] }
  const setLevel = (level: LogLevel) => {
    state.level = level
    state.threshold = RANK[level]
  }

  const make = (module: string | undefined, base: LogFields): Logger => {
    const emit = (level: Exclude<LogLevel, 'silent'>, msg: Message, fields?: LogFields) => {
      if (RANK[level] < state.threshold) return
      const text = typeof msg === 'function' ? msg() : msg
      const all = { ...base, ...fields }
      write(format(now(), level, module, text, all))
    }
    return {
      get level() {
        return state.level
      },
      setLevel,
      child: (name, fields) => make(module ? `${module}.${name}` : name, { ...base, ...fields }),
      enabled: (level) => RANK[level] >= state.threshold,
      debug: (m, f) => emit('debug', m, f),
      info: (m, f) => emit('info', m, f),
      warn: (m, f) => emit('warn', m, f),
      error: (m, f) => emit('error', m, f),
    }
  }
  return make(undefined, {})
}

function serializable(fields: LogFields): LogFields {
  const out: LogFields = {}
  for (const [k, v] of Object.entries(fields)) {
    out[k] = v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v
  }
  return out
}

/** One log line as text; JSON and pretty are the two ways to write it. */
type Formatter = (
  t: Date,
  level: string,
  module: string | undefined,
  msg: string,
  fields: LogFields,
) => string

const formatJson: Formatter = (t, level, module, msg, fields) => {
  try {
    return JSON.stringify({ time: t.toISOString(), level, module, msg, ...serializable(fields) })
  } catch {
    return JSON.stringify({ time: t.toISOString(), level, module, msg, fields: '[unserializable]' })
  }
}

const formatPretty: Formatter = (t, level, module, msg, fields) => {
  const extra = Object.entries(fields)
    .map(([k, v]) => `${k}=${v instanceof Error ? v.message : typeof v === 'string' ? v : safeJson(v)}`)
    .join(' ')
  const time = t.toISOString().slice(11, 23)
  return `${time} ${level.toUpperCase().padEnd(5)} ${module ? `[${module}] ` : ''}${msg}${extra ? ` ${extra}` : ''}`
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    return String(v)
  }
}

/** A logger that drops everything; for tests that assert on behaviour, not output. */
export const silentLogger = (): Logger => createLogger({ level: 'silent', write: () => {} })
