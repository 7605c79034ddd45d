import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../../src/config/load.ts'
import { createHookRegistry } from '../../src/hooks/registry.ts'
import { migrate } from '../../src/store/migrate.ts'
import { tempDir } from '../helpers/hub.ts'

const load = (hooks: unknown[], extra: Record<string, unknown> = {}) =>
  loadConfig({ cwd: '/', env: {}, overrides: { hooks, ...extra } }).config

const problems = (fn: () => unknown): string[] => {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  return []
}

describe('hooks in the config file', () => {
  it('takes a hook with defaults filled in', () => {
    const [hook] = load([{ name: 'x', preset: 'none', payload: 'field', field: 'message' }]).hooks
    expect(hook).toEqual({
      name: 'x',
      preset: 'none',
      payload: 'field',
      field: 'message',
      topic: 'hooks/{name}',
      encoding: 'hex',
      qos: 0,
      retain: false,
    })
  })

  it('has no default preset: "none" must be written out', () => {
    expect(problems(() => load([{ name: 'x' }]))).toEqual([expect.stringContaining('hooks.0.preset')])
  })

  it('refuses a signing preset without a secret, a field mapping without a field, and duplicate names', () => {
    expect(problems(() => load([{ name: 'g', preset: 'github' }]))).toEqual([
      'hooks.0.secret: preset github needs a secret',
    ])
    expect(problems(() => load([{ name: 'f', preset: 'none', payload: 'field' }]))).toEqual([
      'hooks.0.field: payload "field" needs field',
    ])
    expect(
      problems(() =>
        load([
          { name: 'd', preset: 'none' },
          { name: 'd', preset: 'none' },
        ]),
      ),
    ).toEqual(['hooks.1.name: duplicate hook d'])
  })

  it('refuses a topic with wildcards or an unknown placeholder', () => {
    expect(problems(() => load([{ name: 'w', preset: 'none', topic: 'a/#' }]))).toEqual([
      'hooks.0.topic: topic must not contain +, # or start with $',
    ])
    expect(problems(() => load([{ name: 'u', preset: 'none', topic: 'a/{bdy.x}' }]))).toEqual([
      expect.stringContaining('hooks.0.topic: unknown placeholder bdy.x'),
    ])
  })

  it('reads a hook secret from secretFile when the hook is first used', () => {
    using dir = tempDir()
    const file = join(dir.path, 'gh-secret')
    writeFileSync(file, 'from-a-file\n')
    const db = new Database(':memory:', { strict: true })
    migrate(db)
    const config = load([{ name: 'g', preset: 'github', secretFile: file }])
    const registry = createHookRegistry({ db, config: config.hooks })
    expect(registry.get('g')).toMatchObject({ name: 'g', secret: 'from-a-file', source: 'config' })
    db.close()
  })
})

describe('outbound targets and the outbox in the config file', () => {
  it('takes durations for the outbox and a target timeout', () => {
    const config = load([], {
      outbox: { backoffBase: '250ms', maxAge: '2h' },
      webhooks: [{ name: 't', filter: 'a/+/b', url: 'http://127.0.0.1:1/x', timeout: '5s' }],
    })
    expect(config.outbox).toEqual({
      concurrency: 4,
      maxAttempts: 12,
      maxAge: 7_200_000,
      backoffBase: 250,
      backoffMax: 600_000,
      breakerThreshold: 5,
      breakerCooldown: 30_000,
    })
    expect(config.webhooks[0]).toMatchObject({
      filter: 'a/+/b',
      timeout: 5000,
      contentType: 'application/json',
    })
  })

  it('refuses a target with an invalid filter', () => {
    expect(
      problems(() => load([], { webhooks: [{ name: 't', filter: 'a/#/b', url: 'http://127.0.0.1:1/x' }] })),
    ).toEqual(['webhooks.0.filter: not a valid MQTT topic filter'])
  })
})
