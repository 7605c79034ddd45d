import { describe, expect, it } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { loadConfig } from '../../../src/config/load.ts'
import { tempDir } from '../../helpers/hub.ts'

const doc = readFileSync(resolve(import.meta.dir, '../../../docs/firebase.md'), 'utf8')
const examples = [...doc.matchAll(/```toml\n([\s\S]*?)```/g)].map((m) => m[1]!)
const readme = readFileSync(resolve(import.meta.dir, '../../../README.md'), 'utf8')
const smartHome = readFileSync(resolve(import.meta.dir, '../../../examples/smart-home.toml'), 'utf8')

/** Loads a config text as `hearth serve --config` would, its credential files replaced by temp ones. */
function load(text: string, dir: string) {
  const account = join(dir, 'firebase-adminsdk.json')
  writeFileSync(
    account,
    JSON.stringify({
      type: 'service_account',
      project_id: 'threeamericano',
      client_email: 'hearth@threeamericano.iam.gserviceaccount.com',
      private_key: '-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n',
    }),
  )
  const bot = join(dir, 'slack-bot-token')
  writeFileSync(bot, 'xoxb-1\n')
  const file = join(dir, 'hearth.toml')
  writeFileSync(
    file,
    text
      .replaceAll('/etc/hearth/firebase-adminsdk.json', account)
      .replaceAll('/etc/hearth/slack-bot-token', bot),
  )
  return loadConfig({ file, env: {}, cwd: dir }).config
}

describe('docs/firebase.md and examples/smart-home.toml', () => {
  it('have TOML that loads as a config file', () => {
    using dir = tempDir()
    expect(examples.length).toBe(5)
    const configs = examples.map((text) => load(text, dir.path))
    expect(configs[2]!.firebase.rtdb.listen).toEqual([
      { path: 'smarthome/control', topic: 'home/{{path}}', qos: 1, retain: false },
    ])
    expect(configs.map((c) => c.firebase.rtdb.mirror.length)).toEqual([0, 7, 0, 0, 0])
    expect(configs[3]!.firebase.firestore.schedules.missed).toEqual({
      policy: 'runIfLateWithin',
      within: 300_000,
    })
    expect(configs[4]!.rules[0]!.actions[0]).toMatchObject({ type: 'firestore', keepNewest: 20 })

    const config = load(smartHome, dir.path)
    expect(config.firebase.projectId).toBe('threeamericano')
    expect(config.firebase.serviceAccount).toContain('PRIVATE KEY')
    expect(config.firebase.firestore.schedules).toMatchObject({
      collection: 'schedule_mode',
      topic: 'webos/smarthome/info',
    })
    expect(config.mqtt.dottedTopics).toBe(true)
    expect(config.schedules.map((s) => [s.id, s.kind])).toEqual([['weather', 'interval']])
  })

  it('poll Firestore every 60 s by default and state the read cost next to the setting', () => {
    using dir = tempDir()
    const config = load('[firebase.firestore.schedules]\ncollection = "schedule_mode"\n', dir.path)
    expect(config.firebase.firestore.schedules.pollInterval).toBe(60_000)
    // Each pass lists the whole collection: one read per document (at least one per pass).
    const setting = `firebase.firestore.schedules.pollInterval`
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${setting}\``))
    expect(row).toContain('1,440 reads per document a day')
    expect(doc).toContain('1,440\nreads per document a day')
    expect(smartHome).not.toContain('pollInterval = "15s"')
  })
})
