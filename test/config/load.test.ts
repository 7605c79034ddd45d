import { describe, expect, it } from 'bun:test'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { ConfigError, loadConfig, maskedConfig } from '../../src/config/load.ts'
import { configSchema } from '../../src/config/schema.ts'
import { configTemplate } from '../../src/config/template.ts'
import { tempDir } from '../helpers/hub.ts'

function problemsOf(fn: () => unknown): string[] {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  throw new Error('expected a ConfigError')
}

describe('config', () => {
  it('runs on embedded defaults with no file at all', () => {
    using dir = tempDir()
    const { config, file } = loadConfig({ cwd: dir.path, env: {} })
    expect(file).toBeUndefined()
    expect(config.dataDir).toBe('./data')
    expect(config.mqtt.port).toBe(1883)
    expect(config.http.port).toBe(8080)
    expect(config.log.level).toBe('info')
    expect(config.mqtt.allowAnonymous).toBe(false)
  })

  it('reads a TOML file named by --config or HEARTH_CONFIG, and ./hearth.toml otherwise', () => {
    using dir = tempDir()
    writeFileSync(join(dir.path, 'a.toml'), '[mqtt]\nport = 1999\n')
    writeFileSync(join(dir.path, 'hearth.toml'), '[http]\nport = 9999\n')
    expect(loadConfig({ cwd: dir.path, env: {}, file: 'a.toml' }).config.mqtt.port).toBe(1999)
    expect(loadConfig({ cwd: dir.path, env: { HEARTH_CONFIG: 'a.toml' } }).config.mqtt.port).toBe(1999)
    expect(loadConfig({ cwd: dir.path, env: {} }).config.http.port).toBe(9999)
  })

  it('looks for the file in order: --config, HEARTH_CONFIG, ./hearth.toml, then the system file', () => {
    using dir = tempDir()
    const systemFile = join(dir.path, 'etc-hearth.toml')
    const cwd = join(dir.path, 'cwd')
    mkdirSync(cwd)
    writeFileSync(systemFile, '[mqtt]\nport = 1004\n')
    writeFileSync(join(dir.path, 'env.toml'), '[mqtt]\nport = 1002\n')
    writeFileSync(join(dir.path, 'flag.toml'), '[mqtt]\nport = 1001\n')
    const port = (o: { file?: string; env?: Record<string, string> }) =>
      loadConfig({ cwd, env: o.env ?? {}, systemFile, ...(o.file ? { file: o.file } : {}) }).config.mqtt.port
    expect(port({})).toBe(1004)
    writeFileSync(join(cwd, 'hearth.toml'), '[mqtt]\nport = 1003\n')
    expect(port({})).toBe(1003)
    expect(port({ env: { HEARTH_CONFIG: '../env.toml' } })).toBe(1002)
    expect(port({ env: { HEARTH_CONFIG: '../env.toml' }, file: '../flag.toml' })).toBe(1001)
    expect(loadConfig({ cwd, env: {}, systemFile }).file).toBe(join(cwd, 'hearth.toml'))
  })

  it('lets HEARTH_ environment variables override every key path, with types', () => {
    using dir = tempDir()
    writeFileSync(join(dir.path, 'hearth.toml'), '[mqtt]\nport = 1999\n')
    const { config } = loadConfig({
      cwd: dir.path,
      env: {
        HEARTH_MQTT_PORT: '2000',
        HEARTH_MQTT_ALLOW_ANONYMOUS: 'true',
        HEARTH_DATA_DIR: '/var/lib/hearth',
        HEARTH_HTTP_PORT: '8181',
        HEARTH_EVENTS_RETENTION: '2d',
        HEARTH_MQTT_ACL: '[{"pattern":"x/#","access":"read"}]',
        HEARTH_MQTT_TLS_REQUIRE_CLIENT_CERT: 'yes',
      },
    })
    expect(config.mqtt.port).toBe(2000)
    expect(config.mqtt.allowAnonymous).toBe(true)
    expect(config.dataDir).toBe('/var/lib/hearth')
    expect(config.http.port).toBe(8181)
    expect(config.events.retention).toBe(2 * 86_400_000)
    expect(config.mqtt.acl).toEqual([{ pattern: 'x/#', access: 'read' }])
    expect(config.mqtt.tls.requireClientCert).toBe(true)
  })

  it('names the key path of an unknown key, a wrong type and an impossible value', () => {
    using dir = tempDir()
    writeFileSync(join(dir.path, 'hearth.toml'), '[mqtt]\nport = "x"\nbogus = 1\n[http]\nport = 70000\n')
    const problems = problemsOf(() => loadConfig({ cwd: dir.path, env: {} }))
    expect(problems.some((p) => p.startsWith('mqtt.port:'))).toBe(true)
    expect(problems).toContain('mqtt.bogus: unknown key')
    expect(problems.some((p) => p.startsWith('http.port:'))).toBe(true)
  })

  it('refuses an environment variable that names no key and a value of the wrong type', () => {
    using dir = tempDir()
    const problems = problemsOf(() =>
      loadConfig({
        cwd: dir.path,
        env: { HEARTH_MQTT_PROT: '1', HEARTH_HTTP_PORT: 'eighty', HEARTH_MQTT_ALLOW_ANONYMOUS: 'maybe' },
      }),
    )
    expect(problems).toEqual([
      'HEARTH_MQTT_PROT: environment variable does not name a config key',
      'http.port (from HEARTH_HTTP_PORT): "eighty" is not a number',
      'mqtt.allowAnonymous (from HEARTH_MQTT_ALLOW_ANONYMOUS): "maybe" is not a boolean (true/false)',
    ])
  })

  it('refuses a bad time zone and a bad duration, naming them', () => {
    using dir = tempDir()
    const problems = problemsOf(() =>
      loadConfig({
        cwd: dir.path,
        env: {},
        overrides: { timezone: 'Mars/Olympus', events: { retention: 'soon' } },
      }),
    )
    expect(problems.map((p) => p.split(':')[0])).toEqual(['timezone', 'events.retention'])
  })

  it('refuses a rule condition or telemetry extraction whose JSON path does not parse, naming it', () => {
    using dir = tempDir()
    writeFileSync(
      join(dir.path, 'hearth.toml'),
      [
        '[[rules]]',
        'id = "gas"',
        'trigger = { type = "ingest" }',
        'when = { path = "co..value", op = ">", value = 1 }',
        'actions = [{ type = "publish", topic = "pi/1", payload = "x" }]',
        '[[telemetry.mqtt]]',
        'topic = "sensors/+"',
        'device = 1',
        'metrics = { co = "co[value" }',
      ].join('\n'),
    )
    const problems = problemsOf(() => loadConfig({ cwd: dir.path, env: {} }))
    expect(problems).toEqual([
      'rules.0.when.path: not a JSON path (e.g. co.value or $.readings[0].t)',
      'telemetry.mqtt.0.metrics.co: not a JSON path (e.g. co.value)',
    ])
  })

  it('reports a file that is not TOML', () => {
    using dir = tempDir()
    writeFileSync(join(dir.path, 'hearth.toml'), '[mqtt\nport = ')
    expect(problemsOf(() => loadConfig({ cwd: dir.path, env: {} }))[0]).toStartWith('not valid TOML')
  })

  it('reads a secret from its …File key and masks it when printed', () => {
    using dir = tempDir()
    writeFileSync(join(dir.path, 'admin.secret'), 's3cret-value\n')
    const { config } = loadConfig({ cwd: dir.path, env: { HEARTH_ADMIN_PASSWORD_FILE: 'admin.secret' } })
    expect(config.admin.password).toBe('s3cret-value')
    const printed = JSON.stringify(maskedConfig(config))
    expect(printed).not.toContain('s3cret-value')
    expect((maskedConfig(config).admin as { password: string }).password).toBe('********')
  })

  it('names a secret file that cannot be read', () => {
    using dir = tempDir()
    const problems = problemsOf(() =>
      loadConfig({ cwd: dir.path, env: { HEARTH_ADMIN_PASSWORD_FILE: 'missing' } }),
    )
    expect(problems[0]).toStartWith('admin.passwordFile: cannot read missing')
  })

  it('writes a template that lists every key and, uncommented, yields exactly the defaults', () => {
    const template = configTemplate()
    const uncommented = template
      .split('\n')
      .map((line) => (/^# [A-Za-z]+ = /.test(line) ? line.slice(2) : line))
      .filter((line) => !/= ""$/.test(line))
      .join('\n')
    const parsed = configSchema.parse(parseToml(uncommented))
    expect(parsed).toEqual(configSchema.parse({}))
    // Every key appears, optional ones included.
    expect(template).toContain('# cert = ""')
    expect(template).toContain('HEARTH_MQTT_ALLOW_ANONYMOUS')
  })
})

describe('config secrets inside lists', () => {
  it('masks secrets of list items (hooks, webhook targets) when printed', () => {
    using dir = tempDir()
    writeFileSync(
      join(dir.path, 'hearth.toml'),
      [
        '[[hooks]]',
        'name = "gh"',
        'preset = "github"',
        'secret = "hook-secret-value"',
        'topic = "gh/events"',
        '[[webhooks]]',
        'name = "out"',
        'filter = "a/#"',
        'url = "http://127.0.0.1:9/x"',
        'secret = "target-secret-value"',
      ].join('\n'),
    )
    const { config } = loadConfig({ cwd: dir.path, env: {} })
    const printed = JSON.stringify(maskedConfig(config))
    expect(printed).not.toContain('hook-secret-value')
    expect(printed).not.toContain('target-secret-value')
    expect(printed).toContain('"name":"gh"')
  })
})
